#!/usr/bin/env bash
# Runs scripts/demo end to end in a state folder of its own and checks that
# what it printed and saved matches the multicluster failover guide's expected
# results at each step; checks globalsvc remote-secret on the demo's clusters
# (the kubeconfig inside reads and cannot write; --create-service-account);
# that the controllers ran with the chart's ServiceAccount only; that no token
# leaked into the output or logs; and that `scripts/demo down` cleans up.
#
# Environment: BUILD_DIR (default build), passed on to scripts/demo;
# GLOBALSVC_DEMO_TEST_OUTPUT=FILE keeps a copy of the demo's output.
# Prints `N passed, M failed` last and exits non-zero on a failure.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../support/harness.sh
source "$REPO_ROOT/test/support/harness.sh"
CHECK_OUTPUT_LINES=40
BUILD_DIR=${BUILD_DIR:-build}
[[ $BUILD_DIR == /* ]] || BUILD_DIR=$REPO_ROOT/$BUILD_DIR
export BUILD_DIR
GLOBALSVC=$BUILD_DIR/cli/globalsvc
NS=istio-system
SECRET_NS=globalsvc-remotes

WORK=$(mktemp -d)
export GLOBALSVC_DEMO_DIR=$WORK/demo
export GLOBALSVC_TESTBED_DIR=$GLOBALSVC_DEMO_DIR
STEPS=$GLOBALSVC_DEMO_DIR/steps
OUT=$WORK/demo.out

cleanup() {
  if [[ -n ${GLOBALSVC_DEMO_TEST_OUTPUT:-} && -f $OUT ]]; then cp "$OUT" "$GLOBALSVC_DEMO_TEST_OUTPUT"; fi
  "$REPO_ROOT/scripts/demo" down >/dev/null 2>&1 ||
    echo "warning: scripts/demo down failed for $GLOBALSVC_DEMO_DIR" >&2
  rm -rf "$WORK"
}
trap cleanup EXIT



k() { kubectl "$@"; }

# groups STEP : the explain result of a step, one line per group:
#   <cluster>:<locality>[+behind <cluster>[:<locality>],...] ...
# from steps/STEP/explain.json (what the demo printed, as JSON). A gateway's
# pods are named by cluster only unless BEHIND_LOCALITY=1 (a single pod's
# zone is the scheduler's choice).
groups() {
  python3 - "$STEPS/$1/explain.json" "${BEHIND_LOCALITY:-0}" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for g in d["groups"]:
    items = []
    for e in g["endpoints"]:
        item = "%s:%s" % (e["cluster"], e["locality"])
        if e.get("behind"):
            item += "+behind " + ",".join(sorted(
                b["cluster"] + (":" + b["locality"] if sys.argv[2] == "1" else "")
                for b in e["behind"]))
        items.append(item)
    print(" ".join(sorted(items)))
EOF
}

# expect_groups STEP LINE... : the step's explain groups are exactly these.
expect_groups() {
  local step=$1 want got; shift
  want=$(printf '%s\n' "$@")
  got=$(groups "$step")
  [[ $got == "$want" ]] || { printf 'step %s\nwant:\n%s\ngot:\n%s\n' "$step" "$want" "$got"; return 1; }
}

ranking_has() { # STEP TEXT
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if sys.argv[2] in d["ranking"] else 1)' \
    "$STEPS/$1/explain.json" "$2" || { echo "ranking of $1 lacks '$2'"; return 1; }
}

# The text between a "======== Step N" header and the next header.
section() { awk -v s="======== $1" 'index($0, s) == 1 {on = 1; next} /^======== / {on = 0} on' "$OUT"; }

# ---------------------------------------------------------------------------

test_demo_runs() {
  "$REPO_ROOT/scripts/demo" >"$OUT" 2>&1 || { tail -n 40 "$OUT"; return 1; }
  grep -q '^======== Done in' "$OUT"
}

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

test_controllers_use_chart_service_account() {
  local c kc
  for c in cluster1 cluster2; do
    kc=$GLOBALSVC_DEMO_DIR/$c/globalsvc.kubeconfig
    [[ $(stat -c %a "$kc") == 600 ]]
    [[ $(kubectl --kubeconfig "$kc" auth whoami -o jsonpath='{.status.userInfo.username}') == \
      "system:serviceaccount:$NS:globalsvc" ]]
    # The default shape writes in the Services' namespaces, and nothing else there.
    [[ $(kubectl --kubeconfig "$kc" auth can-i create serviceentries.networking.istio.io -n httpbin) == yes ]]
    [[ $(kubectl --kubeconfig "$kc" auth can-i create workloadentries.networking.istio.io -n httpbin) == yes ]]
    [[ $(kubectl --kubeconfig "$kc" auth can-i update serviceentries.networking.istio.io -n httpbin || true) == no ]]
    [[ $(kubectl --kubeconfig "$kc" auth can-i create services -n httpbin || true) == no ]]
    grep -q "remote cluster connected" "$GLOBALSVC_DEMO_DIR/$c/globalsvc.log"
    # The ServiceEntry was written by the controller, as that identity.
    k --context="$c" get serviceentry -n httpbin autogen.httpbin.in-ambient -o json \
      --show-managed-fields | python3 -c 'import json,sys; m=[f["manager"] for f in json.load(sys.stdin)["metadata"]["managedFields"]]; print(m); assert any("globalsvc" in x for x in m)'
  done
}

# lists KUBECONFIG TEXT KUBECTL-ARGS... : kubectl succeeds and prints TEXT.
# (Not `kubectl ... | grep -q`: grep exits at the first match, and with
# pipefail kubectl's SIGPIPE would fail the check.)
lists() {
  local kc=$1 text=$2 out; shift 2
  out=$(kubectl --kubeconfig "$kc" "$@")
  grep -qF -- "$text" <<<"$out" || { echo "kubectl $* did not list $text:"; echo "$out"; return 1; }
}

# The kubeconfig in cluster1's Secret for cluster2 (made by remote-secret from
# the chart's reader) reads cluster2 and cannot write there.
test_remote_secret_reads_and_cannot_write() {
  local kc=$WORK/from-secret.kubeconfig out
  # The chart keeps remote Secrets in a namespace of their own.
  k --context=cluster1 get secret -n "$SECRET_NS" globalsvc-remote-cluster2 -o json |
    python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["metadata"]["labels"]["globalsvc.solo.io/remote-cluster"] == "true", s["metadata"]
assert "istio/multiCluster" not in s["metadata"]["labels"], s["metadata"]
assert list(s["data"]) == ["cluster2"], list(s["data"])
' 
  k --context=cluster1 get secret -n "$SECRET_NS" globalsvc-remote-cluster2 \
    -o jsonpath='{.data.cluster2}' | base64 -d >"$kc"
  chmod 600 "$kc"
  [[ $(kubectl --kubeconfig "$kc" auth whoami -o jsonpath='{.status.userInfo.username}') == \
    "system:serviceaccount:$NS:globalsvc-reader" ]]
  lists "$kc" service/in-ambient get services -A -o name
  lists "$kc" endpointslice.discovery.k8s.io/in-ambient- get endpointslices -A -o name
  lists "$kc" deployment.apps/istio-eastwestgateway get deployments -n "$NS" -o name
  # Writes that go straight to the server (no GET first).
  if out=$(kubectl --kubeconfig "$kc" create service clusterip probe -n httpbin --tcp=80 2>&1); then
    echo "the reader created a Service"; return 1
  fi
  grep -q 'cannot create resource "services"' <<<"$out" || { echo "$out"; return 1; }
  [[ $(kubectl --kubeconfig "$kc" auth can-i patch services -n httpbin || true) == no ]]
  if out=$(kubectl --kubeconfig "$kc" delete service -n httpbin in-ambient --wait=false 2>&1); then
    echo "the reader deleted a Service"; return 1
  fi
  grep -q 'cannot delete resource "services"' <<<"$out" || { echo "$out"; return 1; }
  if out=$(kubectl --kubeconfig "$kc" create configmap -n httpbin probe 2>&1); then
    echo "the reader created a ConfigMap"; return 1
  fi
  grep -q 'cannot create resource "configmaps"' <<<"$out" || { echo "$out"; return 1; }
  if out=$(kubectl --kubeconfig "$kc" get secrets -n "$NS" 2>&1); then
    echo "the reader listed Secrets"; return 1
  fi
  grep -q Forbidden <<<"$out"
}

# --create-service-account makes a reader of its own, bound to the chart's
# roles, and is idempotent; the printed Secret works the same.
test_remote_secret_creates_service_account() {
  local secret=$WORK/created.yaml kc=$WORK/created.kubeconfig
  for _ in 1 2; do
    "$GLOBALSVC" remote-secret --context=cluster2 --name=cluster2 --reader-namespace=default \
      --service-account=demo-test-reader --create-service-account >"$secret" 2>"$WORK/created.err"
  done
  k --context=cluster2 get serviceaccount -n default demo-test-reader >/dev/null
  k --context=cluster2 get clusterrolebinding globalsvc-reader:default:demo-test-reader >/dev/null
  k --context=cluster2 get rolebinding -n "$NS" globalsvc-reader:default:demo-test-reader >/dev/null
  python3 - "$secret" "$kc" <<'EOF'
import base64, re, sys
text = open(sys.argv[1]).read()
assert 'globalsvc.solo.io/remote-cluster: "true"' in text, text
assert "name: globalsvc-remote-cluster2" in text
assert "namespace: globalsvc-remotes" in text, text
data = re.search(r"(?m)^  cluster2: (\S+)$", text).group(1)
open(sys.argv[2], "w").write(base64.b64decode(data).decode())
EOF
  chmod 600 "$kc"
  [[ $(kubectl --kubeconfig "$kc" auth whoami -o jsonpath='{.status.userInfo.username}') == \
    "system:serviceaccount:default:demo-test-reader" ]]
  lists "$kc" service/in-ambient get services -A -o name
  [[ $(kubectl --kubeconfig "$kc" auth can-i update services -n httpbin || true) == no ]]
  # The token is in the Secret on stdout, never on stderr.
  local token
  token=$(kubectl config view --kubeconfig "$kc" --raw -o jsonpath='{.users[0].user.token}')
  [[ -n $token ]]
  ! grep -qF "$token" "$WORK/created.err"
}

test_remote_secret_errors() {
  local out rc
  set +e
  out=$("$GLOBALSVC" remote-secret --context=cluster2 --name=cluster2 --service-account=nobody 2>&1 >/dev/null)
  rc=$?
  set -e
  [[ $rc == 1 ]] || { echo "exit $rc: $out"; return 1; }
  grep -q 'ServiceAccount istio-system/nobody' <<<"$out"
  grep -q -- '--create-service-account' <<<"$out"
  set +e
  "$GLOBALSVC" remote-secret --context=cluster2 >/dev/null 2>&1
  rc=$?
  set -e
  [[ $rc == 2 ]]
}

# No token (the controllers', the readers') appears in the demo's output or
# in the controllers' logs.
test_no_token_leaks() {
  local tokens=() c t
  for c in cluster1 cluster2; do
    tokens+=("$(kubectl config view --kubeconfig "$GLOBALSVC_DEMO_DIR/$c/globalsvc.kubeconfig" --raw \
      -o jsonpath='{.users[0].user.token}')")
    tokens+=("$(k --context="$c" get secret -n "$NS" globalsvc-reader-token -o jsonpath='{.data.token}' | base64 -d)")
  done
  for t in "${tokens[@]}"; do
    [[ ${#t} -gt 20 ]] || { echo "a token is missing"; return 1; }
    for f in "$OUT" "$GLOBALSVC_DEMO_DIR"/cluster*/globalsvc.log; do
      if grep -qF -- "$t" "$f"; then echo "a token is in $f"; return 1; fi
    done
  done
}

# A process that exited but is not reaped yet (state Z) counts as stopped.
process_running() { # PID
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# The controllers stop on SIGTERM (no SIGKILL needed) and the state is gone.
test_demo_down() {
  local pids=() c p said
  for c in cluster1 cluster2; do pids+=("$(<"$GLOBALSVC_DEMO_DIR/$c/globalsvc.pid")"); done
  said=$("$REPO_ROOT/scripts/demo" down 2>&1 >/dev/null)
  for p in "${pids[@]}"; do
    if process_running "$p"; then echo "controller $p still running; demo down said: $said"; return 1; fi
  done
  if [[ $said == *"did not stop"* ]]; then echo "$said"; return 1; fi
  [[ ! -e $GLOBALSVC_DEMO_DIR ]]
}

main() {
  local bin
  check "scripts/demo runs end to end" test_demo_runs
  bin=$("$REPO_ROOT/scripts/testbed" bin)
  export PATH=$bin:$PATH
  export KUBECONFIG=$GLOBALSVC_DEMO_DIR/cluster1/kubeconfig:$GLOBALSVC_DEMO_DIR/cluster2/kubeconfig
  if [[ ! -d $STEPS ]]; then
    fail "scripts/demo saved its steps in $STEPS"
    summary || exit 1
  fi
  check "step 1: nodes and gateways carry the guide's localities" test_step1_localities
  check "step 2: autogen.httpbin.in-ambient in both clusters; traffic stays local" test_step2_serviceentries
  check "step 2: istiod hands ztunnel the local pods as themselves and cluster2 behind its gateway" test_step2_istiod_view
  check "step 5: istiod deploys the waypoint and gives it, and its identity, to the global service" test_step5_waypoint
  check "step 3: PreferNetwork keeps traffic in cluster1; at 0 replicas it goes to cluster2" test_step3_prefer_network
  check "step 4: PreferClose ranks us-east-1a, us-east-1b, then us-west-2" test_step4_prefer_close
  check "step 4: the pod in us-east-1a gone, traffic goes to us-east-1b" test_step4_zone_failover
  check "step 4: cluster1 at 0 replicas, traffic goes to cluster2" test_step4_region_failover
  check "step 6: the waypoint ranks cluster1's zones as istiod hands them, and cannot fail over to cluster2" test_step6_failover_priority
  check "every explain printed was computed from a saved dump of the live ServiceEntries" test_printed_explain_is_saved
  check "the controllers ran as the chart's ServiceAccount" test_controllers_use_chart_service_account
  check "remote-secret: the kubeconfig in the Secret reads cluster2 and cannot write" test_remote_secret_reads_and_cannot_write
  check "remote-secret --create-service-account: own reader, idempotent, works" test_remote_secret_creates_service_account
  check "remote-secret: a missing reader exits 1 with a hint; a usage error exits 2" test_remote_secret_errors
  check "no token in the demo's output or the controllers' logs" test_no_token_leaks
  check "scripts/demo down stops the controllers and removes the state" test_demo_down
  summary
}

main "$@"
