# shellcheck shell=bash
# test/testbed/testbed_test.sh: the clusters as brought up: status, ports of
# their own, nodes with zones and regions, the pinned version, the mesh topology
# objects, helm, the CRDs. Sourced, never run.

test_status_healthy() {
  local out
  out=$("$TESTBED" status) || { echo "$out"; return 1; }
  echo "$out"
  grep -q '^cluster1 ' <<<"$out" && grep -q '^cluster2 ' <<<"$out"
}

test_nodes_have_zones() {
  local c want got
  for c in cluster1 cluster2; do
    want=$(cluster_var "$c" ZONES | tr , '\n' | sort -u)
    k "$c" get nodes -L topology.kubernetes.io/zone
    got=$(k "$c" get nodes -o jsonpath='{range .items[*]}{.metadata.labels.topology\.kubernetes\.io/zone}{"\n"}{end}' | sort -u)
    [[ $got == "$want" ]] || { echo "$c: zones '$got', want '$want'"; return 1; }
    [[ $(cluster_var "$c" REGION) == "$(k "$c" get nodes -o jsonpath='{.items[0].metadata.labels.topology\.kubernetes\.io/region}')" ]] ||
      { echo "$c: wrong region label"; return 1; }
  done
  [[ $(cluster_var cluster1 ZONES) == us-east-1a,us-east-1b && $(cluster_var cluster2 ZONES) == us-west-2a,us-west-2b ]] ||
    { echo "default topology zones differ from the guide"; return 1; }
}

test_nodes_ready() {
  local c
  for c in cluster1 cluster2; do
    k "$c" wait --for condition=Ready node --all --timeout 30s
  done
}

test_version() {
  local c v
  for c in cluster1 cluster2; do
    v=$(k "$c" get --raw /version)
    grep -q "\"gitVersion\": *\"$KUBERNETES_VERSION\"" <<<"$v" || { echo "$c /version: $v"; return 1; }
  done
}

test_mesh_topology_objects() {
  local c net region zone
  for c in cluster1 cluster2; do
    net=$(cluster_var "$c" NETWORK)
    region=$(cluster_var "$c" REGION)
    zone=$(cluster_var "$c" ZONES)
    zone=${zone%%,*}
    [[ $(k "$c" get ns istio-system -o jsonpath='{.metadata.labels.topology\.istio\.io/network}') == "$net" ]] ||
      { echo "$c: istio-system not labelled with network $net"; return 1; }
    [[ $(k "$c" -n istio-system get deploy istio-eastwestgateway \
      -o jsonpath='{.metadata.labels.topology\.istio\.io/network}/{.metadata.labels.topology\.kubernetes\.io/region}/{.metadata.labels.topology\.kubernetes\.io/zone}') == "$net/$region/$zone" ]] ||
      { echo "$c: gateway labels wrong"; return 1; }
  done
  [[ $(cluster_var cluster1 NETWORK) == cluster1-network && $(cluster_var cluster2 NETWORK) == cluster2-network ]]
}

test_helm_reaches_cluster() {
  local helm
  helm=$("$TESTBED" bin)/helm
  "$helm" version --short | grep -q "^$HELM_VERSION" || { "$helm" version; return 1; }
  "$helm" --kubeconfig "$GLOBALSVC_TESTBED_DIR/cluster1/kubeconfig" list --all-namespaces
}

test_crds_established() {
  local c crd
  for c in cluster1 cluster2; do
    for crd in serviceentries.networking.istio.io destinationrules.networking.istio.io \
               workloadentries.networking.istio.io gateways.gateway.networking.k8s.io \
               httproutes.gateway.networking.k8s.io; do
      k "$c" wait --for condition=Established "crd/$crd" --timeout 10s
    done
  done
}

# Ports handed out in one run never repeat: 1,500 of them from a range of
# about 17,000 would repeat dozens of times if the record of handed-out ports
# were lost (it was, in a $(...) subshell: two components of one test bed got
# the same port, and the second failed to bind).
test_free_ports_unique() {
  local ports
  ports=$("$TESTBED" free-ports 1500)
  [[ $(wc -l <<<"$ports") == 1500 ]]
  [[ -z $(sort <<<"$ports" | uniq -d) ]] || { echo "repeated: $(sort <<<"$ports" | uniq -d | head)"; return 1; }
}

# Every component of every cluster listens on a port of its own.
test_bed_ports_unique() {
  local ports
  ports=$(cat "$GLOBALSVC_TESTBED_DIR"/*/cluster.env | grep -E '^[A-Z_]+_PORT=' | cut -d= -f2)
  [[ -n $ports ]]
  [[ -z $(sort <<<"$ports" | uniq -d) ]] || { echo "repeated: $(sort <<<"$ports" | uniq -d)"; return 1; }
}
