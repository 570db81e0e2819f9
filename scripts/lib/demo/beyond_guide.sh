# scripts/demo: the steps beyond the guide, 7 (takeover: the cluster-local
# name goes global) and 8 (segments: a host domain per group of clusters),
# with the checks and manifest only they use. Sourced by scripts/demo.
# shellcheck shell=bash

# takeover_is CLUSTER MODE : the GlobalService status says how the
# cluster-local name is taken over (empty: not at all).
takeover_is() {
  local got
  got=$(kubectl --context="$1" get globalservice -n "$NS" httpbin.in-ambient --ignore-not-found \
    -o jsonpath='{.status.takeover}')
  [[ $got == "$2" ]] || { echo "want '${2}', got '${got}'"; return 1; }
}

step7() {
  step "Beyond the guide: takeover, the cluster-local name goes global"
  # view_summary reads $HOST: from here on, the Kubernetes Service's own name.
  local HOST=in-ambient.httpbin.svc.cluster.local
  note "$HOST still reaches only cluster1's pods."
  wait_view cluster1 PreferClose "cluster1 us-east-1/us-east-1a pod" \
    "cluster1 us-east-1/us-east-1b pod"
  note "Label the Service for takeover: cluster2's WorkloadEntry in cluster1 gets the Service's"
  note "selector, so upstream istiod adds it to the Kubernetes Service itself."
  run kubectl --context=cluster1 label service in-ambient -n httpbin solo.io/service-takeover=true
  wait_view cluster1 PreferClose "cluster1 us-east-1/us-east-1a pod" \
    "cluster1 us-east-1/us-east-1b pod" "cluster2 us-west-2/us-west-2a gateway*2"
  wait_for "cluster1's GlobalService status to say KubernetesService" \
    takeover_is cluster1 KubernetesService
  run kubectl --context=cluster1 get workloadentries -n httpbin -l app=in-ambient
  note "Takeover off: the cluster-local name is cluster1's alone again."
  run kubectl --context=cluster1 label service in-ambient -n httpbin solo.io/service-takeover-
  wait_view cluster1 PreferClose "cluster1 us-east-1/us-east-1a pod" \
    "cluster1 us-east-1/us-east-1b pod"
  wait_for "cluster1's GlobalService status to drop takeover" takeover_is cluster1 ""
}

# segments_yaml : the demo's two Segments, applied in both clusters.
segments_yaml() {
  cat <<'EOF'
apiVersion: globalsvc.io/v1alpha1
kind: Segment
metadata: {name: east, namespace: istio-system}
spec:
  domain: mesh.east
  aliases:
  - pattern: "{service}.east"
---
apiVersion: globalsvc.io/v1alpha1
kind: Segment
metadata: {name: west, namespace: istio-system}
spec:
  domain: mesh.west
EOF
}

# remote_segment_is CLUSTER REMOTE "SEGMENT SERVICES" : what CLUSTER's
# RemoteCluster status says of REMOTE.
remote_segment_is() {
  local got
  got=$(kubectl --context="$1" get remoteclusters -n "$NS" "$2" \
    -o jsonpath='{.status.segment} {.status.services}')
  [[ $got == "$3" ]] || { echo "want '${3}', got '${got}'"; return 1; }
}

# shellcheck disable=SC2034 # SE is read by view_summary, in observe.sh
step8() {
  step "Beyond the guide: segments, a host domain per group of clusters"
  local c
  note "Each cluster holds a copy of both segments; cluster1 joins east, cluster2 west."
  for c in "${CLUSTERS[@]}"; do
    say "\$ kubectl --context=$c apply -f- <<EOF  (Segments east and west)"
    segments_yaml | kubectl --context="$c" apply -f- | sed 's/^/  /'
  done
  run kubectl --context=cluster1 label namespace "$NS" admin.solo.io/segment=east
  run kubectl --context=cluster2 label namespace "$NS" admin.solo.io/segment=west
  note "cluster1's own segment: east's domain and its alias, cluster1's pods only."
  local HOST=in-ambient.httpbin.mesh.east SE=autogen.east.httpbin.in-ambient
  wait_view cluster1 PreferClose "cluster1 us-east-1/us-east-1a pod" \
    "cluster1 us-east-1/us-east-1b pod"
  HOST=in-ambient.east
  wait_view cluster1 PreferClose "cluster1 us-east-1/us-east-1a pod" \
    "cluster1 us-east-1/us-east-1b pod"
  note "The other segment's global service, under its own domain, behind cluster2's gateway."
  HOST=in-ambient.httpbin.mesh.west SE=autogen.west.httpbin.in-ambient
  wait_view cluster1 PreferClose "cluster2 us-west-2/us-west-2a gateway*2"
  run kubectl --context=cluster1 get serviceentries -n httpbin
  wait_for "cluster1's RemoteCluster of cluster2 to say segment west, 1 service" \
    remote_segment_is cluster1 cluster2 "west 1"
  run kubectl --context=cluster1 get remoteclusters -n "$NS"
  note "Without the labels, both clusters are one segment again: mesh.internal."
  for c in "${CLUSTERS[@]}"; do
    run kubectl --context="$c" label namespace "$NS" admin.solo.io/segment-
  done
  HOST=in-ambient.httpbin.mesh.internal SE=autogen.httpbin.in-ambient
  wait_view cluster1 PreferClose "cluster1 us-east-1/us-east-1a pod" \
    "cluster1 us-east-1/us-east-1b pod" "cluster2 us-west-2/us-west-2a gateway*2"
}
