# scripts/demo: the multicluster failover guide's steps 1 to 6, in order, each
# printing its commands and waiting for istiod's view. Sourced by
# scripts/demo, never run.
# shellcheck shell=bash

step1() {
  step "Step 1: Verify locality labels"
  local c
  for c in "${CLUSTERS[@]}"; do
    say "=== Cluster: $c ==="
    run kubectl --context="$c" get nodes -o \
      'custom-columns=NAME:.metadata.name,REGION:.metadata.labels.topology\.kubernetes\.io/region,ZONE:.metadata.labels.topology\.kubernetes\.io/zone'
  done
  for c in "${CLUSTERS[@]}"; do
    say "\$ kubectl --context=$c get deploy -n $NS istio-eastwestgateway -o yaml | grep -A3 \"topology.istio.io\""
    kubectl --context="$c" get deploy -n "$NS" istio-eastwestgateway -o yaml |
      grep -A3 "topology.istio.io" | sed 's/^/  /'
  done
  show_serviceentries
  note "explain: no global service yet, nothing to explain."
}

step2() {
  step "Step 2: Deploy global services across clusters"
  local c
  for c in "${CLUSTERS[@]}"; do
    run kubectl --context="$c" apply -f "${SAMPLES#"$REPO_ROOT"/}/in-ambient.yaml"
  done
  for c in "${CLUSTERS[@]}"; do
    run kubectl --context="$c" apply -f "${SAMPLES#"$REPO_ROOT"/}/client-in-ambient.yaml"
  done
  for c in "${CLUSTERS[@]}"; do
    wait_for "in-ambient in $c" available_replicas_are "$c" 1
    wait_for "client-in-ambient in $c" kubectl --context="$c" rollout status \
      deployment/client-in-ambient -n httpbin --timeout=5s
    say "=== Cluster: $c ==="
    run kubectl --context="$c" get pods -n httpbin
  done
  for c in "${CLUSTERS[@]}"; do
    run kubectl --context="$c" label ns httpbin istio.io/dataplane-mode=ambient
  done
  for c in "${CLUSTERS[@]}"; do
    run kubectl --context="$c" label service in-ambient -n httpbin solo.io/service-scope=global
  done
  wait_view cluster1 PreferNetwork "cluster1 $(pod_locality cluster1) pod" \
    "cluster2 us-west-2/us-west-2a gateway*1"
  wait_view cluster2 PreferNetwork "cluster2 $(pod_locality cluster2) pod" \
    "cluster1 us-east-1/us-east-1a gateway*1"
  note "globalsvc writes a ServiceEntry in the Service's namespace selecting one WorkloadEntry"
  note "per endpoint (the local pods as themselves, the other cluster behind its gateway), and a"
  note "peer Gateway for the other network, whose address istiod resolves."
  for c in "${CLUSTERS[@]}"; do
    wait_for "istiod of $c to take the peer Gateway's address" peer_gateway_addressed "$c"
  done
  for c in "${CLUSTERS[@]}"; do
    say "=== Cluster: $c ==="
    say "\$ kubectl --context=$c get serviceentry -n httpbin | grep in-ambient"
    kubectl --context="$c" get serviceentry -n httpbin | grep in-ambient | sed 's/^/  /'
    run kubectl --context="$c" get gateways.gateway.networking.k8s.io -n "$NS" \
      -l app.kubernetes.io/managed-by=globalsvc
  done
  show_serviceentries
  note "Per global service, what each controller made of it: endpoints by cluster, conflicts."
  show_globalservices cluster1=1,cluster2=1
  explain 2-global
}

step3() {
  step "Step 3: Default multicluster L4 failover with ztunnel (PreferNetwork)"
  note "PreferNetwork: every request stays on cluster1's network while it has endpoints."
  note "Upstream istiod knows no PreferNetwork, so globalsvc writes PreferClose, the closest"
  note "value it applies: cluster1's network first (the client's zone, then its region), then cluster2."
  show_serviceentries
  explain 3-prefer-network
  say
  note "Simulate a failure: scale in-ambient in cluster1 to 0."
  scale cluster1 0
  wait_view cluster1 PreferNetwork "cluster2 us-west-2/us-west-2a gateway*1"
  show_serviceentries
  show_globalservices cluster1=0,cluster2=1
  explain 3-cluster1-down
  say
  note "Scale cluster1 back up."
  scale cluster1 1
  wait_view cluster1 PreferNetwork "cluster1 $(pod_locality cluster1) pod" \
    "cluster2 us-west-2/us-west-2a gateway*1"
}

step4() {
  step "Step 4: Zone-aware traffic distribution (PreferClose)"
  note "PreferClose is what step 3 already wrote for PreferNetwork; asking for it says so."
  scale cluster1 2
  local c
  for c in "${CLUSTERS[@]}"; do
    run kubectl --context="$c" annotate service in-ambient -n httpbin \
      networking.istio.io/traffic-distribution=PreferClose --overwrite
  done
  wait_view cluster1 PreferClose "cluster1 us-east-1/us-east-1a pod" \
    "cluster1 us-east-1/us-east-1b pod" "cluster2 us-west-2/us-west-2a gateway*1"
  # Printed once the ServiceEntry shows both zones, so the table does too.
  run kubectl --context=cluster1 get pods -n httpbin -l app=in-ambient -o wide
  show_serviceentries
  explain 4-prefer-close
  say
  note "Zone failure in us-east-1a: cordon its nodes (else the ReplicaSet puts the"
  note "replacement pod straight back there), then delete the pod in us-east-1a."
  local node pod
  for node in $(kubectl --context=cluster1 get nodes -l topology.kubernetes.io/zone=us-east-1a -o name); do
    run kubectl --context=cluster1 cordon "${node#node/}"
  done
  pod=$(pod_in_zone cluster1 us-east-1a) || die "no in-ambient pod in us-east-1a"
  say "\$ POD_SAME_ZONE=$pod   # the pod on a us-east-1a node"
  run kubectl --context=cluster1 delete pod -n httpbin "$pod"
  wait_view cluster1 PreferClose "cluster1 us-east-1/us-east-1b pod" \
    "cluster2 us-west-2/us-west-2a gateway*1"
  run kubectl --context=cluster1 get pods -n httpbin -l app=in-ambient -o wide
  show_serviceentries
  explain 4-zone-down
  say
  note "Region failure: scale in-ambient in cluster1 to 0."
  run kubectl --context=cluster1 scale deployment in-ambient -n httpbin --replicas=0
  wait_for "no in-ambient pods in cluster1" pods_are cluster1 0
  wait_view cluster1 PreferClose "cluster2 us-west-2/us-west-2a gateway*1"
  show_serviceentries
  explain 4-region-down
  say
  note "Restore: uncordon us-east-1a, scale back to 2."
  for node in $(kubectl --context=cluster1 get nodes -l topology.kubernetes.io/zone=us-east-1a -o name); do
    run kubectl --context=cluster1 uncordon "${node#node/}"
  done
  scale cluster1 2
  wait_view cluster1 PreferClose "cluster1 us-east-1/us-east-1a pod" \
    "cluster1 us-east-1/us-east-1b pod" "cluster2 us-west-2/us-west-2a gateway*1"
}

# shellcheck disable=SC2034 # WAYPOINT is read by view_is, in observe.sh
step5() {
  step "Step 5: Add a waypoint for L7 multicluster failover"
  local c
  for c in "${CLUSTERS[@]}"; do
    say "\$ kubectl --context=$c apply -f- <<EOF  (Gateway httpbin-waypoint, class istio-waypoint)"
    kubectl --context="$c" apply -f- <<EOF | sed 's/^/  /'
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: httpbin-waypoint
  namespace: httpbin
spec:
  gatewayClassName: istio-waypoint
  listeners:
  - name: mesh
    port: 15008
    protocol: HBONE
    allowedRoutes:
      namespaces:
        from: Same
EOF
  done
  for c in "${CLUSTERS[@]}"; do
    run kubectl --context="$c" label namespace httpbin istio.io/use-waypoint=httpbin-waypoint
  done
  for c in "${CLUSTERS[@]}"; do
    wait_for "istiod of $c to deploy httpbin-waypoint" kubectl --context="$c" rollout status \
      deployment/httpbin-waypoint -n httpbin --timeout=5s
    run kubectl --context="$c" rollout status deployment/httpbin-waypoint -n httpbin --timeout=5s
  done
  note "istiod gives the global service the namespace's waypoint. globalsvc adds the waypoint's"
  note "identity to the ServiceEntry's subjectAltNames: the waypoint terminates the connection."
  note "The waypoint gets only endpoints on its own network from upstream istiod (step 6)."
  WAYPOINT=httpbin-waypoint.httpbin.svc.cluster.local
  wait_view cluster1 PreferClose "cluster1 us-east-1/us-east-1a pod" \
    "cluster1 us-east-1/us-east-1b pod" "cluster2 us-west-2/us-west-2a gateway*1"
  wait_for "the waypoint's identity among the SANs istiod hands ztunnel" waypoint_in_sans cluster1
  show_serviceentries
  explain 5-waypoint --l7
}

step6() {
  step "Step 6: DestinationRule with explicit failover priority"
  local c
  for c in "${CLUSTERS[@]}"; do
    say "\$ kubectl --context=$c apply -f- <<EOF  (DestinationRule in-ambient-failover)"
    kubectl --context="$c" apply -f- <<EOF | sed 's/^/  /'
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: in-ambient-failover
  namespace: httpbin
spec:
  host: $HOST
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        enabled: true
        failoverPriority:
        - topology.kubernetes.io/zone
        - topology.kubernetes.io/region
      simple: ROUND_ROBIN
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 3m
      maxEjectionPercent: 50
EOF
  done
  run kubectl --context=cluster1 get destinationrule -n httpbin
  run kubectl --context=cluster2 get destinationrule -n httpbin
  note "cluster2 runs two replicas too, one in us-west-2a and one in us-west-2b."
  scale cluster2 2
  wait_view cluster2 PreferClose "cluster2 us-west-2/us-west-2a pod" \
    "cluster2 us-west-2/us-west-2b pod" "cluster1 us-east-1/us-east-1a gateway*2"
  note "The waypoint ranks by the rule: its zone first, then the rest of cluster1. Upstream istiod"
  note "(default mode) hands a waypoint no endpoint on another network, so cluster2 is not there."
  wait_for "istiod to hand cluster1's waypoint both of its pods" waypoint_eds_has cluster1 2
  show_waypoint_eds cluster1
  note "Simulate a failure: scale in-ambient in cluster1 to 0."
  run kubectl --context=cluster1 scale deployment in-ambient -n httpbin --replicas=0
  wait_for "no in-ambient pods in cluster1" pods_are cluster1 0
  wait_view cluster1 PreferClose "cluster2 us-west-2/us-west-2a gateway*2"
  wait_for "istiod to hand cluster1's waypoint no endpoint" waypoint_eds_has cluster1 0
  show_serviceentries
  show_waypoint_eds cluster1
  note "With upstream istiod, L7 failover through a waypoint stops at the network: requests"
  note "through cluster1's waypoint now fail, while ztunnel alone (no waypoint, step 3) sends them"
  note "to cluster2. explain --l7 says so:"
  explain 6-failover-priority --l7 --requests 5
  say
  note "Scale cluster1 back up."
  scale cluster1 2
  wait_view cluster1 PreferClose "cluster1 us-east-1/us-east-1a pod" \
    "cluster1 us-east-1/us-east-1b pod" "cluster2 us-west-2/us-west-2a gateway*2"
}
