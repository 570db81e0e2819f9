# shellcheck shell=bash
# test/demo/demo_test.sh: the controllers' identity: they ran as the chart's
# ServiceAccount, and no token is in the demo's output or their logs. Sourced, never run.

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
