# shellcheck shell=bash
# test/testbed/testbed_test.sh: the sample workload: pods and their
# EndpointSlice follow scaling, in zones and in ranges of their own cluster.
# Sourced, never run.

ready_endpoints() { # CLUSTER -> "ip zone node" per ready endpoint of in-ambient
  k "$1" -n httpbin get endpointslices -l kubernetes.io/service-name=in-ambient \
    -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]} {.zone} {.nodeName}{"\n"}{end}'
}

count_ready_endpoints() { # CLUSTER N
  local n
  n=$(ready_endpoints "$1" | grep -c . || true)
  [[ $n == "$2" ]] || { echo "$1: $n ready endpoints, want $2"; ready_endpoints "$1"; return 1; }
}

test_sample_two_replicas_in_two_zones() {
  k cluster1 apply -f "$SAMPLES/in-ambient.yaml" -f "$SAMPLES/client-in-ambient.yaml"
  k cluster1 -n httpbin scale deployment in-ambient --replicas 2
  wait_for 60 k cluster1 -n httpbin wait --for jsonpath='{.status.readyReplicas}'=2 deployment/in-ambient --timeout 5s
  local pods phase ip node zones="" line pod_cidr
  pod_cidr=$(cluster_var cluster1 POD_CIDR)
  pods=$(k cluster1 -n httpbin get pods -l app=in-ambient --field-selector status.phase=Running \
    -o jsonpath='{range .items[*]}{.status.phase} {.status.podIP} {.spec.nodeName}{"\n"}{end}')
  echo "$pods"
  [[ $(grep -c . <<<"$pods") == 2 ]] || { echo "want 2 Running pods"; return 1; }
  while read -r phase ip node; do
    [[ $phase == Running && -n $ip ]] || { echo "pod without IP"; return 1; }
    ip_in_cidr "$ip" "$pod_cidr" || { echo "pod IP $ip outside $pod_cidr"; return 1; }
    zones+="$(k cluster1 get node "$node" -o jsonpath='{.metadata.labels.topology\.kubernetes\.io/zone}') "
  done <<<"$pods"
  read -r -a line <<<"$zones"
  [[ ${#line[@]} == 2 && ${line[0]} != "${line[1]}" ]] || { echo "pods not in two zones: $zones"; return 1; }
}

test_endpointslice_has_two_ready_endpoints() {
  wait_for 30 count_ready_endpoints cluster1 2
  local ip zone node
  while read -r ip zone node; do
    [[ -n $ip && -n $zone && -n $node ]] || { echo "endpoint lacks zone or nodeName: '$ip $zone $node'"; return 1; }
    [[ $(k cluster1 get node "$node" -o jsonpath='{.metadata.labels.topology\.kubernetes\.io/zone}') == "$zone" ]] ||
      { echo "endpoint zone $zone is not its node's zone"; return 1; }
  done < <(ready_endpoints cluster1)
}

test_scale_to_zero_empties_endpointslice() {
  k cluster1 -n httpbin scale deployment in-ambient --replicas 0
  wait_for 30 count_ready_endpoints cluster1 0
  wait_for 30 bash -c "[[ -z \$('$KUBECTL' --kubeconfig '$GLOBALSVC_TESTBED_DIR/cluster1/kubeconfig' -n httpbin get pods -l app=in-ambient -o name) ]]"
}

test_clusters_use_distinct_ranges() {
  k cluster2 apply -f "$SAMPLES/in-ambient.yaml"
  wait_for 60 count_ready_endpoints cluster2 1
  local ip1 ip2 svc1 svc2
  ip2=$(ready_endpoints cluster2 | awk '{print $1}')
  ip_in_cidr "$ip2" "$(cluster_var cluster2 POD_CIDR)" || { echo "cluster2 pod IP $ip2 outside its pod CIDR"; return 1; }
  ip_in_cidr "$ip2" "$(cluster_var cluster1 POD_CIDR)" && { echo "cluster2 pod IP $ip2 inside cluster1's pod CIDR"; return 1; }
  svc1=$(k cluster1 -n httpbin get svc in-ambient -o jsonpath='{.spec.clusterIP}')
  svc2=$(k cluster2 -n httpbin get svc in-ambient -o jsonpath='{.spec.clusterIP}')
  ip_in_cidr "$svc1" "$(cluster_var cluster1 SERVICE_CIDR)" || { echo "cluster1 service IP $svc1"; return 1; }
  ip_in_cidr "$svc2" "$(cluster_var cluster2 SERVICE_CIDR)" || { echo "cluster2 service IP $svc2"; return 1; }
  ip1=$(cluster_var cluster1 POD_CIDR)
  [[ $ip1 != "$(cluster_var cluster2 POD_CIDR)" ]]
}
