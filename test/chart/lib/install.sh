# shellcheck shell=bash
# shellcheck disable=SC2086 # CLUSTER, NS, SECRETS_NS: chart_test.sh's constants, single words
# test/chart/chart_test.sh: test-bed checks of installing the chart: server-side
# dry runs of renderings, the restricted Pod Security Standard, where a new or an
# existing install keeps the remote Secrets, and the install itself. Sourced, never run.

# Server-side dry run of a rendering; the server's view (defaults filled in)
# goes to FILE.json for json_check.
dry_run_server() { # FILE
  k apply --dry-run=server -f "$1" -o json >"$1.json"
}

test_dry_run_default() {
  dry_run_server "$WORK/default.yaml"
  json_check "$WORK/default.yaml.json" \
    "len(objs) == 12" \
    "by['Deployment/$RELEASE']['spec']['template']['spec']['securityContext']['runAsNonRoot'] is True"
}

test_dry_run_all_options() {
  render "$WORK/all.yaml" --set clusterName=$CLUSTER --set replicas=3 \
    --set remoteReader.enabled=true --set network=network1 --set logFormat=json \
    --set objectShape=workload-entries \
    --set-json 'podAnnotations={"example.com/a":"b"}' \
    --set-json 'tolerations=[{"key":"k","operator":"Exists","effect":"NoSchedule"}]' \
    --set-json 'nodeSelector={"kubernetes.io/os":"linux"}' \
    --set networkPolicy.enabled=true \
    --set-json 'networkPolicy.metricsFrom=[{"namespaceSelector":{"matchLabels":{"team":"monitoring"}}}]'
  dry_run_server "$WORK/all.yaml"
  json_check "$WORK/all.yaml.json" \
    "'PodDisruptionBudget/$RELEASE' in by" \
    "'NetworkPolicy/$RELEASE' in by" \
    "'Secret/$READER_SA-token' in by" \
    "by['Deployment/$RELEASE']['spec']['template']['spec']['affinity']['podAntiAffinity']"
}

# The Deployment meets the "restricted" Pod Security Standard: a namespace
# that enforces it accepts the Deployment's pods without a warning.
test_pod_security_restricted() {
  local ns=globalsvc-chart-psa out
  k create namespace "$ns" --dry-run=client -o yaml |
    k label --local -f - pod-security.kubernetes.io/enforce=restricted \
      pod-security.kubernetes.io/warn=restricted -o yaml | k apply -f - >/dev/null
  # Everything in the one namespace moved below (the Deployment is what counts).
  render "$WORK/psa.yaml" --set clusterName=$CLUSTER --set secretNamespace=$NS
  out=$("$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" apply --dry-run=server -n "$ns" \
    -f <(sed "s/namespace: $NS/namespace: $ns/" "$WORK/psa.yaml") 2>&1)
  k delete namespace "$ns" --wait=false >/dev/null
  echo "$out"
  ! grep -qi 'violate' <<<"$out"
}

test_install_rejects_wrong_type() {
  expect_fail_with "/workers': got string, want integer" \
    helm_ install "$RELEASE-bad" "$CHART" -n "$NS" --set clusterName=$CLUSTER --set workers=many
  ! helm_ status "$RELEASE-bad" -n "$NS" >/dev/null 2>&1
}

# helm install --dry-run=server (which runs the chart's lookups) into a
# namespace NS of its own; the manifest and NOTES go to FILE.
dry_run_install() { # FILE NS HELM-ARGS...
  local file=$1 ns=$2; shift 2
  helm_ install "$RELEASE" "$CHART" -n "$ns" --dry-run=server --set clusterName=$CLUSTER \
    --set namespace="$ns" "$@" >"$file"
}

# A new install gets a namespace of its own for the remote Secrets, created
# by the chart when it is missing.
test_new_install_gets_secret_namespace() {
  local ns=globalsvc-chart-fresh
  k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
  dry_run_install "$WORK/fresh.out" "$ns" --set secretNamespace=globalsvc-chart-new-remotes
  dry_run_install "$WORK/fresh-default.out" "$ns"
  k delete namespace "$ns" --wait=false >/dev/null
  grep -q -- '--secret-namespace=globalsvc-chart-new-remotes' "$WORK/fresh.out"
  grep -A3 '^kind: Namespace' "$WORK/fresh.out" | grep -q 'name: globalsvc-chart-new-remotes'
  grep -q -- "--secret-namespace=$SECRETS_NS" "$WORK/fresh-default.out"
}

# An install whose control-plane namespace already holds remote Secrets (from
# before the default moved) keeps reading them there, and NOTES say how to
# move them: an upgrade disconnects no cluster.
test_existing_remote_secrets_stay() {
  local ns=globalsvc-chart-upgrade label
  for label in globalsvc.solo.io/remote-cluster istio/multiCluster; do
    k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
    k create secret generic globalsvc-remote-other -n "$ns" --from-literal=other=x \
      --dry-run=client -o yaml | k label --local -f - "$label=true" -o yaml | k apply -f - >/dev/null
    dry_run_install "$WORK/kept.out" "$ns"
    k delete namespace "$ns" --wait=true --timeout=60s >/dev/null
    grep -q -- "--secret-namespace=$ns" "$WORK/kept.out" ||
      { echo "$label: secrets not kept in $ns"; return 1; }
    ! grep -q '^kind: Namespace' "$WORK/kept.out"
    grep -q 'The remote Secrets stay in' "$WORK/kept.out"
  done
}

test_install() {
  # The secret namespace given explicitly: the shared test bed's istio-system
  # may hold remote Secrets of other suites, which would keep them there.
  # Installed with the inline shape first, whose writes stay in $NS; the
  # upgrade test moves it to the default shape's wider RBAC and back.
  helm_ install "$RELEASE" "$CHART" -n "$NS" --set clusterName=$CLUSTER \
    --set secretNamespace=$SECRETS_NS --set objectShape=inline \
    --set remoteReader.enabled=true --wait=false --timeout 60s >"$WORK/install.out"
  grep -q "kubectl get serviceentry -n $NS" "$WORK/install.out" ||
    { echo "NOTES missing the serviceentry check:"; cat "$WORK/install.out"; return 1; }
  grep -q '^STATUS: deployed' <<<"$(helm_ status "$RELEASE" -n "$NS")"
  k get -n "$NS" "serviceaccount/$SA" "deployment/$RELEASE" "service/$RELEASE-metrics" \
    "role/$RELEASE" "rolebinding/$RELEASE" "role/$RELEASE-reader" \
    "serviceaccount/$READER_SA" "secret/$READER_SA-token" "rolebinding/$RELEASE-reader"
  k get "clusterrole/$RELEASE" "clusterrolebinding/$RELEASE" "clusterrole/$RELEASE-reader" \
    "clusterrolebinding/$RELEASE-reader"
}
