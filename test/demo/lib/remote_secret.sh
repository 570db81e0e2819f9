# shellcheck shell=bash
# test/demo/demo_test.sh: globalsvc remote-secret on the demo's clusters: the
# Secret's kubeconfig reads and cannot write, --create-service-account, and its
# errors. Sourced, never run.

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
