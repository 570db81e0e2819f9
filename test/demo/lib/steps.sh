# shellcheck shell=bash
# test/demo/demo_test.sh: the guide's steps: what the demo printed and saved at
# each step, and that every explain printed comes from a saved dump. Sourced, never run.

test_step1_localities() {
  local s
  s=$(section "Step 1")
  grep -Eq 'node-us-east-1a-0 +us-east-1 +us-east-1a' <<<"$s"
  grep -Eq 'node-us-east-1b-0 +us-east-1 +us-east-1b' <<<"$s"
  grep -Eq 'node-us-west-2a-0 +us-west-2 +us-west-2a' <<<"$s"
  grep -Eq 'node-us-west-2b-0 +us-west-2 +us-west-2b' <<<"$s"
  grep -q 'topology.istio.io/network: cluster1-network' <<<"$s"
  grep -q 'topology.istio.io/network: cluster2-network' <<<"$s"
  grep -q 'topology.kubernetes.io/zone: us-west-2a' <<<"$s"
}

test_step2_serviceentries() {
  local s
  s=$(section "Step 2")
  # The guide: autogen.httpbin.in-ambient ["in-ambient.httpbin.mesh.internal"] STATIC, in both.
  [[ $(grep -Ec '^  autogen\.httpbin\.in-ambient +\["in-ambient\.httpbin\.mesh\.internal"\] +MESH_INTERNAL +STATIC' <<<"$s") == 2 ]]
  local c
  for c in cluster1 cluster2; do
    python3 - "$STEPS/2-global/$c/serviceentries.yaml" "$c" <<'EOF'
import sys, re
text = open(sys.argv[1]).read()
assert "name: autogen.httpbin.in-ambient" in text, "no ServiceEntry"
assert "app.kubernetes.io/managed-by: globalsvc" in text
assert "- in-ambient.httpbin.mesh.internal" in text
assert "networking.istio.io/traffic-distribution: PreferClose" in text
assert "globalsvc.solo.io/requested-traffic-distribution: PreferNetwork" in text
EOF
  done
  expect_groups 2-global "cluster1:us-east-1/$(zone_of_step2)" \
    "cluster2:us-west-2/us-west-2a+behind cluster2"
  # kubectl get globalservices in both clusters: one endpoint each, no conflict.
  [[ $(grep -Ec '^  httpbin\.in-ambient +in-ambient\.httpbin\.mesh\.internal +cluster1=1,cluster2=1 +2 +0 +Synced ' <<<"$s") == 2 ]]
}

# The zone of cluster1's single pod in step 2 (the scheduler picks it).
zone_of_step2() {
  python3 - "$STEPS/2-global/explain.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print([e for g in d["groups"] for e in g["endpoints"] if e["cluster"] == "cluster1"][0]["locality"].split("/")[1])
EOF
}

# Step 2's printout of what istiod hands ztunnel in each cluster: the
# distribution asked for and what istiod made of it, no waypoint; the local
# pod with its own identity, the other cluster behind its gateway.
test_step2_istiod_view() {
  local s
  s=$(section "Step 2")
  [[ $(grep -c '^    distribution PreferNetwork istiod FAILOVER NETWORK,REGION,ZONE waypoint -$' <<<"$s") == 2 ]] ||
    { echo "no istiod view with PreferClose's load balancing for both clusters:"; echo "$s" | tail -40; return 1; }
  grep -Eq '^    cluster1 us-east-1/us-east-1[ab] pod 10\.[0-9.]+ httpbin/in-ambient$' <<<"$s"
  grep -Eq '^    cluster2 us-west-2/us-west-2a gateway\*1$' <<<"$s"
  grep -Eq '^    cluster1 us-east-1/us-east-1a gateway\*1$' <<<"$s"
  grep -q '^    subjectAltNames spiffe://cluster.local/ns/httpbin/sa/in-ambient$' <<<"$s"
  grep -Eq 'globalsvc-remote-cluster2-network +istio-remote +192\.0\.2\.2' <<<"$s" ||
    { echo "no peer Gateway with its address in cluster1:"; grep -i gateway <<<"$s"; return 1; }
}

# Step 5: istiod deployed the waypoint and gives it to the global service,
# whose SANs name the waypoint's identity.
test_step5_waypoint() {
  local s
  s=$(section "Step 5")
  grep -q 'deployment "httpbin-waypoint" successfully rolled out' <<<"$s"
  grep -q '^    distribution PreferClose istiod FAILOVER NETWORK,REGION,ZONE waypoint httpbin-waypoint.httpbin.svc.cluster.local$' <<<"$s"
  grep -q '^    subjectAltNames spiffe://cluster.local/ns/httpbin/sa/httpbin-waypoint spiffe://cluster.local/ns/httpbin/sa/in-ambient$' <<<"$s"
}

test_step3_prefer_network() {
  # PreferNetwork is written as PreferClose, which upstream istiod applies.
  ranking_has 3-prefer-network "PreferClose"
  # Traffic stays in cluster1 (group 1), cluster2 only after it.
  [[ $(groups 3-prefer-network | head -n 1) == cluster1:* ]]
  [[ $(groups 3-prefer-network | sed -n 2p) == cluster2:* ]]
  # Scaled to 0: everything goes to cluster2; cluster1 is still counted, with 0.
  expect_groups 3-cluster1-down "cluster2:us-west-2/us-west-2a+behind cluster2"
  [[ $(section "Step 3" | grep -Ec '^  httpbin\.in-ambient +in-ambient\.httpbin\.mesh\.internal +cluster1=0,cluster2=1 +1 +0 +Synced ') == 2 ]]
}

test_step4_prefer_close() {
  ranking_has 4-prefer-close "PreferClose"
  expect_groups 4-prefer-close "cluster1:us-east-1/us-east-1a" "cluster1:us-east-1/us-east-1b" \
    "cluster2:us-west-2/us-west-2a+behind cluster2"
  # One pod in each zone, in the table printed once the ServiceEntry has both.
  local s
  s=$(section "Step 4")
  if ! grep -Eq 'in-ambient-\S+ .* node-us-east-1a-' <<<"$s" ||
    ! grep -Eq 'in-ambient-\S+ .* node-us-east-1b-' <<<"$s"; then
    echo "no in-ambient pod in us-east-1a and one in us-east-1b in step 4's tables:"
    grep -E '^NAME|in-ambient-' <<<"$s" | head -20
    return 1
  fi
}

test_step4_zone_failover() {
  expect_groups 4-zone-down "cluster1:us-east-1/us-east-1b" \
    "cluster2:us-west-2/us-west-2a+behind cluster2"
}

test_step4_region_failover() {
  expect_groups 4-region-down "cluster2:us-west-2/us-west-2a+behind cluster2"
}

test_step6_failover_priority() {
  ranking_has 6-failover-priority \
    "DestinationRule httpbin/in-ambient-failover failoverPriority [topology.kubernetes.io/zone, topology.kubernetes.io/region]"
  # Upstream istiod hands the waypoint nothing of cluster2: with cluster1
  # down, explain --l7 has no group left, and says why.
  expect_groups 6-failover-priority
  local s
  s=$(section "Step 6")
  grep -q 'gateway(cluster2): on another network. Upstream istiod (default mode) hands a waypoint no endpoint' <<<"$s"
  grep -q '^  No endpoint is left: requests fail.$' <<<"$s"
  # What istiod handed the waypoint, through the xDS client: cluster1's two
  # zones by priority, then nothing.
  grep -Eq '^    priority=0 locality=us-east-1/us-east-1[ab] endpoint=10\.244\.[0-9.]+:8080 weight=1$' <<<"$s"
  grep -Eq '^    priority=1 locality=us-east-1/us-east-1[ab] endpoint=10\.244\.[0-9.]+:8080 weight=1$' <<<"$s"
  grep -q '^    (no endpoint)$' <<<"$s"
  ! grep -Eq 'endpoint=(10\.245|192\.0\.2)' <<<"$s"
}

test_printed_explain_is_saved() {
  local dir step
  for dir in "$STEPS"/*/; do
    step=$(basename "$dir")
    [[ -s $dir/explain.txt && -s $dir/cluster1/serviceentries.yaml ]] || { echo "$step incomplete"; return 1; }
    python3 - "$dir/explain.txt" "$OUT" <<'EOF' || { echo "$step: explain.txt is not in the output"; return 1; }
import sys
saved = "".join("  " + line for line in open(sys.argv[1]).read().splitlines(True))
sys.exit(0 if saved in open(sys.argv[2]).read() else 1)
EOF
    # explain again on the saved dump: the same answer.
    local args=()
    [[ $step == 5-* ]] && args=(--l7)
    [[ $step == 6-* ]] && args=(--l7 --requests 5)
    "$GLOBALSVC" explain in-ambient.httpbin.mesh.internal --from cluster1/us-east-1a -f "$dir" \
      "${args[@]}" | cmp - "$dir/explain.txt"
  done
  [[ $(find "$STEPS" -name explain.json | wc -l) == 8 ]]
}
