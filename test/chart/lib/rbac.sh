# shellcheck shell=bash
# test/chart/chart_test.sh: test-bed checks of the chart's RBAC: what the
# controller's and the reader's ServiceAccounts may and may not do, by impersonation,
# by real requests, and with the reader's own token. Sourced, never run.

# can SA-NAME VERB RESOURCE [kubectl auth can-i args...]: allowed.
can() {
  local sa=$1; shift
  k auth can-i --as="system:serviceaccount:$NS:$sa" "$@" >/dev/null ||
    { echo "$sa cannot $*"; return 1; }
}
cannot() {
  local sa=$1; shift
  if k auth can-i --as="system:serviceaccount:$NS:$sa" "$@" >/dev/null 2>&1; then
    echo "$sa can $*"
    return 1
  fi
}

# The project's CRDs as they were in the old API group, so that `auth can-i`
# can resolve its resources.
legacy_crds() {
  local f
  for f in "$REPO_ROOT"/crds/*.yaml; do
    echo "---"
    sed -e 's/^\(  name: [a-z]*\)\.globalsvc\.io$/\1.globalsvc.solo.io/' \
      -e 's/^  group: globalsvc\.io$/  group: globalsvc.solo.io/' -e '/shortNames:/d' "$f"
  done
}

test_controller_rbac_allows() {
  local r
  for r in services namespaces nodes endpointslices.discovery.k8s.io; do
    can "$SA" list "$r" --all-namespaces
    can "$SA" watch "$r" --all-namespaces
  done
  for verb in get list watch create patch delete; do
    can "$SA" "$verb" serviceentries.networking.istio.io -n "$NS"
  done
  can "$SA" list deployments.apps -n "$NS"
  can "$SA" watch deployments.apps -n "$NS"
  # The status objects (crds/): the objects, and patches of their status.
  local r
  for r in remoteclusters.globalsvc.io globalservices.globalsvc.io; do
    for verb in get list create delete; do
      can "$SA" "$verb" "$r" -n "$NS"
    done
    can "$SA" patch "$r" --subresource=status -n "$NS"
  done
  can "$SA" watch globalservices.globalsvc.io -n "$NS"
  # The same resources in the old API group: listed and deleted after an upgrade.
  for r in remoteclusters.globalsvc.solo.io globalservices.globalsvc.solo.io; do
    can "$SA" list "$r" -n "$NS"
    can "$SA" delete "$r" -n "$NS"
  done
  can "$SA" list secrets -n "$SECRETS_NS"
  can "$SA" watch secrets -n "$SECRETS_NS"
  can "$SA" create leases.coordination.k8s.io -n "$NS"
  can "$SA" get leases.coordination.k8s.io/globalsvc -n "$NS"
  can "$SA" update leases.coordination.k8s.io/globalsvc -n "$NS"
  # Events on Services of any namespace.
  can "$SA" create events.events.k8s.io -n default
}

test_controller_rbac_forbids() {
  local verb
  for verb in create update patch delete; do
    cannot "$SA" "$verb" serviceentries.networking.istio.io -n default
    cannot "$SA" "$verb" services -n default
    cannot "$SA" "$verb" services -n "$NS"
    cannot "$SA" "$verb" secrets -n "$NS"
    cannot "$SA" "$verb" deployments.apps -n "$NS"
    cannot "$SA" "$verb" endpointslices.discovery.k8s.io -n default
    cannot "$SA" "$verb" namespaces
    cannot "$SA" "$verb" nodes
  done
  for verb in create patch delete; do
    cannot "$SA" "$verb" globalservices.globalsvc.io -n default
    cannot "$SA" "$verb" remoteclusters.globalsvc.io -n default
  done
  cannot "$SA" patch globalservices.globalsvc.io --subresource=status -n default
  # Nothing is ever written in the old API group.
  for verb in create patch update; do
    cannot "$SA" "$verb" remoteclusters.globalsvc.solo.io -n "$NS"
    cannot "$SA" "$verb" globalservices.globalsvc.solo.io -n "$NS"
  done
  cannot "$SA" patch remoteclusters.globalsvc.solo.io --subresource=status -n "$NS"
  # Status objects are created, never applied over: no patch of the objects.
  cannot "$SA" patch remoteclusters.globalsvc.io -n "$NS"
  cannot "$SA" patch globalservices.globalsvc.io -n "$NS"
  cannot "$SA" get secrets -n "$NS"
  cannot "$SA" get secrets -n "$SECRETS_NS"
  # Not the control plane's Secrets (the mesh CA among them).
  cannot "$SA" list secrets -n "$NS"
  cannot "$SA" watch secrets -n "$NS"
  cannot "$SA" list secrets -n default
  cannot "$SA" list deployments.apps -n default
  cannot "$SA" list serviceentries.networking.istio.io -n default
  cannot "$SA" update leases.coordination.k8s.io/someone-else -n "$NS"
  # Only the verbs the controller uses: no PUT of ServiceEntries, Events
  # created through events.k8s.io only.
  cannot "$SA" update serviceentries.networking.istio.io -n "$NS"
  cannot "$SA" patch events.events.k8s.io -n default
  cannot "$SA" create events -n default
  cannot "$SA" create pods -n "$NS"
  cannot "$SA" impersonate serviceaccounts -n "$NS"
}

serviceentry() { # NAMESPACE
  cat <<EOF
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: autogen.chart-test.probe
  namespace: $1
spec:
  hosts: [probe.chart-test.mesh.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{name: http, number: 80, protocol: HTTP}]
EOF
}

# Real requests as the ServiceAccount: writes in the control-plane namespace
# go through, the same write elsewhere is forbidden by the API server.
test_controller_writes_only_in_control_plane_namespace() {
  local as=--as=system:serviceaccount:$NS:$SA out
  serviceentry "$NS" | k "$as" apply --server-side --field-manager=chart-test -f - >/dev/null
  k "$as" get serviceentry -n "$NS" autogen.chart-test.probe >/dev/null
  k "$as" delete serviceentry -n "$NS" autogen.chart-test.probe >/dev/null
  if out=$(serviceentry default | k "$as" apply --server-side --field-manager=chart-test -f - 2>&1); then
    k delete serviceentry -n default autogen.chart-test.probe >/dev/null 2>&1 || true
    echo "a ServiceEntry in namespace default was created"
    return 1
  fi
  grep -q Forbidden <<<"$out" || { echo "$out"; return 1; }
  if out=$(k "$as" label service -n default kubernetes chart-test=1 2>&1); then
    echo "a Service was changed"
    return 1
  fi
  grep -q Forbidden <<<"$out" || { echo "$out"; return 1; }
}

globalservice() { # NAMESPACE
  cat <<EOF
apiVersion: globalsvc.io/v1alpha1
kind: GlobalService
metadata:
  name: chart-test.probe
  namespace: $1
spec: {}
EOF
}

# The CRDs came with the chart; as the ServiceAccount, a GlobalService and
# its status can be written in the control-plane namespace only.
test_status_objects_only_in_control_plane_namespace() {
  local as=--as=system:serviceaccount:$NS:$SA out crd
  for crd in remoteclusters.globalsvc.io globalservices.globalsvc.io; do
    [[ $(k get crd "$crd" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}') == True ]] ||
      { echo "CRD $crd not established"; return 1; }
  done
  k delete globalservice -n "$NS" chart-test.probe --ignore-not-found >/dev/null
  globalservice "$NS" | k "$as" create -f - >/dev/null
  k "$as" patch globalservice -n "$NS" chart-test.probe --subresource=status --type=merge \
    -p '{"status":{"host":"probe.chart-test.mesh.internal","endpoints":1}}' >/dev/null
  [[ $(k get globalservice -n "$NS" chart-test.probe -o jsonpath='{.status.host}') == \
    probe.chart-test.mesh.internal ]]
  k "$as" delete globalservice -n "$NS" chart-test.probe >/dev/null
  if out=$(globalservice default | k "$as" create -f - 2>&1); then
    k delete globalservice -n default chart-test.probe >/dev/null 2>&1 || true
    echo "a GlobalService in namespace default was created"
    return 1
  fi
  grep -q Forbidden <<<"$out" || { echo "$out"; return 1; }
}

test_reader_rbac() {
  local r verb
  for r in services namespaces nodes endpointslices.discovery.k8s.io; do
    can "$READER_SA" list "$r" --all-namespaces
    can "$READER_SA" watch "$r" --all-namespaces
  done
  can "$READER_SA" list deployments.apps -n "$NS"
  can "$READER_SA" watch deployments.apps -n "$NS"
  for verb in create update patch delete; do
    cannot "$READER_SA" "$verb" services -n default
    cannot "$READER_SA" "$verb" serviceentries.networking.istio.io -n "$NS"
    cannot "$READER_SA" "$verb" deployments.apps -n "$NS"
  done
  cannot "$READER_SA" list secrets -n "$NS"
  cannot "$READER_SA" list serviceentries.networking.istio.io -n "$NS"
  cannot "$READER_SA" list deployments.apps -n default
  cannot "$READER_SA" create events -n default
}

reader_token_ready() {
  [[ -n $(k get secret -n "$NS" "$READER_SA-token" -o jsonpath='{.data.token}') ]]
}

# The reader's token Secret is filled in by the token controller, and a
# kubeconfig with only that token reads what a remote controller reads.
test_reader_token_works() {
  wait_for 30 reader_token_ready
  local token server ca=$WORK/ca.crt kc=$WORK/reader.kubeconfig
  token=$(k get secret -n "$NS" "$READER_SA-token" -o jsonpath='{.data.token}' | base64 -d)
  server=$(k config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
  k config view --raw --minify \
    -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$ca"
  "$KUBECTL" config --kubeconfig "$kc" set-cluster c --server "$server" \
    --certificate-authority "$ca" --embed-certs >/dev/null
  "$KUBECTL" config --kubeconfig "$kc" set-credentials reader --token "$token" >/dev/null
  "$KUBECTL" config --kubeconfig "$kc" set-context c --cluster c --user reader >/dev/null
  "$KUBECTL" config --kubeconfig "$kc" use-context c >/dev/null
  local r
  for r in services namespaces nodes endpointslices.discovery.k8s.io; do
    "$KUBECTL" --kubeconfig "$kc" get "$r" --all-namespaces -o name >/dev/null
  done
  [[ -n $("$KUBECTL" --kubeconfig "$kc" get deployments -n "$NS" -o name) ]]
  local out
  if out=$("$KUBECTL" --kubeconfig "$kc" get secrets -n "$NS" 2>&1); then
    echo "the reader token can list secrets"
    return 1
  fi
  grep -q Forbidden <<<"$out" || { echo "$out"; return 1; }
}
