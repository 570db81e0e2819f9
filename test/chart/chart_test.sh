#!/usr/bin/env bash
# Tests of the Helm chart manifests/charts/globalsvc: lint, rendering, the
# values schema, acceptance of the rendered objects by a real API server,
# install/uninstall, and what the chart's RBAC allows and forbids (checked
# with impersonation and with the reader's real token).
#
# Reuses the test bed named by GLOBALSVC_TESTBED_DIR when one is running
# there (scripts/test exports it); otherwise starts its own in a fresh state
# folder and removes it at the end. Prints `N passed, M failed` last and exits
# non-zero on a failure.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../support/harness.sh
source "$REPO_ROOT/test/support/harness.sh"
TESTBED=$REPO_ROOT/scripts/testbed
CHART=$REPO_ROOT/manifests/charts/globalsvc
# shellcheck source=../testbed/versions.env
source "$REPO_ROOT/test/testbed/versions.env"

NS=istio-system
CLUSTER=cluster1
# A release name of its own, so the test never touches another install.
RELEASE=globalsvc-chart-test
SA=$RELEASE
READER_SA=$RELEASE-reader
# The remote Secrets' namespace of their own (the chart's default).
SECRETS_NS=globalsvc-remotes

OWN_TESTBED=0
INSTALLED=0
WORK=$(mktemp -d)

cleanup() {
  if ((INSTALLED)); then
    "$HELM" --kubeconfig "$KUBECONFIG_FILE" uninstall "$RELEASE" -n "$NS" --wait \
      >/dev/null 2>&1 || true
  fi
  if ((OWN_TESTBED)); then
    "$TESTBED" down >/dev/null 2>&1 ||
      echo "warning: scripts/testbed down failed for $GLOBALSVC_TESTBED_DIR" >&2
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The chart's crds/ must be the project's crds/, byte for byte.
test_crds_match() {
  diff -r "$REPO_ROOT/crds" "$REPO_ROOT/manifests/charts/globalsvc/crds"
}

k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
helm_() { "$HELM" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# render FILE HELM-TEMPLATE-ARGS... : renders the chart offline into FILE.
# --kube-version: a helm built from source without release ldflags assumes an
# old Kubernetes for offline rendering, which the chart's kubeVersion refuses.
render() {
  local file=$1; shift
  "$HELM" template "$RELEASE" "$CHART" -n "$NS" --kube-version "$KUBERNETES_VERSION" \
    "$@" >"$file"
}

# kinds FILE : "Kind/name" of every object in a rendered file, one a line.
kinds() {
  python3 - "$1" <<'EOF'
import re, sys
docs = re.split(r'(?m)^---\s*$', open(sys.argv[1]).read())
for d in docs:
    kind = re.search(r'(?m)^kind:\s*(\S+)', d)
    name = re.search(r'(?m)^metadata:\n(?:\s+.*\n)*?\s{2}name:\s*(\S+)', d)
    if kind and name:
        print(f"{kind.group(1)}/{name.group(1)}")
EOF
}

# json_check JSON-FILE PYTHON-EXPR... : every expression over `objs` (the
# items of a kubectl -o json List, by "Kind/name" in `by`) must be true.
json_check() {
  local file=$1; shift
  python3 - "$file" "$@" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
objs = data["items"] if data.get("kind") == "List" else [data]
by = {f'{o["kind"]}/{o["metadata"]["name"]}': o for o in objs}
bad = [e for e in sys.argv[2:] if not eval(e, {"by": by, "objs": objs})]
for e in bad:
    print("false:", e)
sys.exit(1 if bad else 0)
EOF
}

# placed_check RENDERED-FILE PYTHON-EXPR... : every expression over `where`
# ("Kind/name" of each rendered object -> (its namespace or None, its text))
# must be true.
placed_check() {
  local file=$1; shift
  python3 - "$file" "$@" <<'EOF'
import re, sys
where = {}
for d in re.split(r'(?m)^---\s*$', open(sys.argv[1]).read()):
    kind = re.search(r'(?m)^kind:\s*(\S+)', d)
    name = re.search(r'(?m)^  name:\s*(\S+)', d)
    ns = re.search(r'(?m)^  namespace:\s*(\S+)', d)
    if kind and name:
        where[f"{kind.group(1)}/{name.group(1)}"] = (ns.group(1) if ns else None, d)
bad = [e for e in sys.argv[2:] if not eval(e, {"where": where})]
for e in bad:
    print("false:", e)
sys.exit(1 if bad else 0)
EOF
}

# expect_fail_with TEXT COMMAND... : COMMAND must fail and print TEXT.
expect_fail_with() {
  local text=$1 out; shift
  if out=$("$@" 2>&1); then
    echo "succeeded, expected a failure mentioning: $text"
    return 1
  fi
  grep -qF -- "$text" <<<"$out" || { echo "error does not mention '$text':"; echo "$out"; return 1; }
}

# ---------------------------------------------------------------------------
# offline: lint, render, schema

test_lint() {
  local out
  out=$("$HELM" lint "$CHART" --set clusterName=$CLUSTER 2>&1) || { echo "$out"; return 1; }
  if grep -E '^\[(WARNING|ERROR)\]' <<<"$out"; then return 1; fi
  "$HELM" lint --strict "$CHART" --set clusterName=$CLUSTER
  "$HELM" lint --strict "$CHART" --set clusterName=$CLUSTER --set replicas=3 \
    --set serviceMonitor.enabled=true --set remoteReader.enabled=true \
    --set secretNamespace=globalsvc-remotes --set namespace=mesh-system \
    --set networkPolicy.enabled=true
}

test_render_default() {
  render "$WORK/default.yaml" --set clusterName=$CLUSTER
  kinds "$WORK/default.yaml" | sort >"$WORK/default.kinds"
  diff -u - "$WORK/default.kinds" <<EOF
ClusterRole/$RELEASE
ClusterRole/$RELEASE-reader
ClusterRoleBinding/$RELEASE
Deployment/$RELEASE
Namespace/$SECRETS_NS
Role/$RELEASE
Role/$RELEASE-reader
Role/$RELEASE-secrets
RoleBinding/$RELEASE
RoleBinding/$RELEASE-secrets
Service/$RELEASE-metrics
ServiceAccount/$SA
EOF
}

# By default the remote Secrets live in a namespace of their own: the
# controller may list Secrets there, and not in the control-plane namespace
# (whose Secrets include the mesh CA).
test_render_default_secret_namespace() {
  grep -q -- "--secret-namespace=$SECRETS_NS" "$WORK/default.yaml"
  placed_check "$WORK/default.yaml" \
    "where['Role/$RELEASE'][0] == '$NS' and 'secrets' not in where['Role/$RELEASE'][1]" \
    "where['Role/$RELEASE-secrets'][0] == '$SECRETS_NS'" \
    "'secrets' in where['Role/$RELEASE-secrets'][1]" \
    "'helm.sh/resource-policy: keep' in where['Namespace/$SECRETS_NS'][1]"
}

test_render_ha() {
  render "$WORK/ha.yaml" --set clusterName=$CLUSTER --set replicas=3
  grep -q '^kind: PodDisruptionBudget' "$WORK/ha.yaml"
  grep -q 'podAntiAffinity:' "$WORK/ha.yaml"
  grep -q 'replicas: 3' "$WORK/ha.yaml"
  # One replica: neither.
  ! grep -q -e '^kind: PodDisruptionBudget' -e 'podAntiAffinity:' "$WORK/default.yaml"
}

test_render_ha_needs_leader_election() {
  expect_fail_with "leaderElection.enabled" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set replicas=2 \
    --set leaderElection.enabled=false
}

test_render_service_monitor_only_when_enabled() {
  if grep -q '^kind: ServiceMonitor' "$WORK/default.yaml"; then return 1; fi
  render "$WORK/sm.yaml" --set clusterName=$CLUSTER --set serviceMonitor.enabled=true \
    --set serviceMonitor.labels.release=prometheus
  grep -q '^apiVersion: monitoring.coreos.com/v1' "$WORK/sm.yaml"
  grep -q '^kind: ServiceMonitor' "$WORK/sm.yaml"
  grep -q 'release: prometheus' "$WORK/sm.yaml"
  expect_fail_with "metrics.service.enabled" render "$WORK/x.yaml" \
    --set clusterName=$CLUSTER --set serviceMonitor.enabled=true \
    --set metrics.service.enabled=false
}

test_render_network_policy() {
  if grep -q '^kind: NetworkPolicy' "$WORK/default.yaml"; then return 1; fi
  render "$WORK/np.yaml" --set clusterName=$CLUSTER --set networkPolicy.enabled=true \
    --set 'networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team=monitoring'
  python3 - "$WORK/np.yaml" <<'EOF'
import re, sys
docs = [d for d in re.split(r'(?m)^---\s*$', open(sys.argv[1]).read())
        if re.search(r'(?m)^kind: NetworkPolicy$', d)]
assert len(docs) == 1, docs
policy = docs[0]
assert 'policyTypes: ["Ingress"]' in policy, policy
assert re.search(r'(?m)^\s+- from:\n\s+- namespaceSelector:\n\s+matchLabels:\n\s+team: monitoring$',
                 policy), policy
assert re.search(r'(?m)^\s+- port: metrics\n\s+protocol: TCP$', policy), policy
EOF
  # No peers: the pod is closed to everyone (no ingress rule at all).
  render "$WORK/np-closed.yaml" --set clusterName=$CLUSTER --set networkPolicy.enabled=true
  grep -q '^kind: NetworkPolicy' "$WORK/np-closed.yaml"
  if grep -q -- '- from:' "$WORK/np-closed.yaml"; then return 1; fi
}

test_render_remote_reader() {
  render "$WORK/reader.yaml" --set clusterName=$CLUSTER --set remoteReader.enabled=true
  kinds "$WORK/reader.yaml" >"$WORK/reader.kinds"
  grep -qx "ServiceAccount/$READER_SA" "$WORK/reader.kinds"
  grep -qx "Secret/$READER_SA-token" "$WORK/reader.kinds"
  grep -qx "ClusterRoleBinding/$RELEASE-reader" "$WORK/reader.kinds"
  grep -qx "RoleBinding/$RELEASE-reader" "$WORK/reader.kinds"
  grep -q 'type: kubernetes.io/service-account-token' "$WORK/reader.yaml"
}

test_render_namespaces() {
  render "$WORK/ns.yaml" --set clusterName=$CLUSTER --set namespace=mesh-system \
    --set secretNamespace=globalsvc-remotes
  grep -q -- '--namespace=mesh-system' "$WORK/ns.yaml"
  grep -q -- '--secret-namespace=globalsvc-remotes' "$WORK/ns.yaml"
  # The Role with the ServiceEntries is in the control-plane namespace, the
  # one with the Secrets in the secret namespace; the Deployment in the release's.
  placed_check "$WORK/ns.yaml" \
    "where['Role/$RELEASE'][0] == 'mesh-system'" \
    "'serviceentries' in where['Role/$RELEASE'][1]" \
    "'secrets' not in where['Role/$RELEASE'][1]" \
    "where['Role/$RELEASE-secrets'][0] == 'globalsvc-remotes'" \
    "'secrets' in where['Role/$RELEASE-secrets'][1]" \
    "where['RoleBinding/$RELEASE-secrets'][0] == 'globalsvc-remotes'" \
    "where['Role/$RELEASE-reader'][0] == 'mesh-system'" \
    "where['Deployment/$RELEASE'][0] == '$NS'"
}

test_render_flags() {
  render "$WORK/flags.yaml" --set clusterName=$CLUSTER --set network=network1 \
    --set workers=4 --set qps=7.5 --set burst=20 --set statusQps=2.5 --set logFormat=json \
    --set logLevel=debug \
    --set hostSuffix=example.internal --set gatewaySelector=istio=eastwestgateway \
    --set leaderElection.leaseName=gs --set 'extraArgs={--context=x}' \
    --set remoteStaleTimeout=10m --set maxResponseMiB=64 --set maxRemoteObjects=5000 \
    --set objectShape=inline --set trustDomain=example.org
  local flag
  # Every argument line of the container, quotes removed.
  sed -n '/^ *args:$/,/^ *env:$/s/^ *- "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$WORK/flags.yaml" \
    >"$WORK/flags.args"
  # shellcheck disable=SC2016 # $(POD_NAME) is expanded by Kubernetes, not here
  for flag in controller --cluster-name=$CLUSTER --network=network1 --workers=4 --qps=7.5 \
    --burst=20 --status-qps=2.5 --log-format=json --log-level=debug --host-suffix=example.internal \
    --gateway-selector=istio=eastwestgateway --leader-elect=true --lease-name=gs \
    '--identity=$(POD_NAME)' --metrics-addr=:9090 --context=x --remote-stale-timeout=10m \
    --max-response-mib=64 --max-remote-objects=5000 --object-shape=inline \
    --trust-domain=example.org; do
    grep -qxF -- "$flag" "$WORK/flags.args" ||
      { echo "flag $flag not rendered:"; cat "$WORK/flags.args"; return 1; }
  done
  grep -q 'resourceNames: \["gs"\]' "$WORK/flags.yaml"
}

# The workload-entries shape (the default) has RBAC the inline one does not:
# Pods read here and by remote readers, ServiceEntries and WorkloadEntries
# written in every namespace, peer Gateways in the control-plane namespace.
test_render_shape_rbac() {
  render "$WORK/inline.yaml" --set clusterName=$CLUSTER --set objectShape=inline
  render "$WORK/shaped.yaml" --set clusterName=$CLUSTER
  grep -q -- '--object-shape=inline' "$WORK/inline.yaml"
  grep -q -- '--object-shape=workload-entries' "$WORK/shaped.yaml"
  ! grep -qE 'workloadentries|"pods"|gateway.networking.k8s.io' "$WORK/inline.yaml" ||
    { echo "the inline shape renders workload-entries RBAC"; return 1; }
  placed_check "$WORK/shaped.yaml" \
    "'\"pods\"' in where['ClusterRole/$RELEASE'][1]" \
    "'workloadentries' in where['ClusterRole/$RELEASE'][1]" \
    "'\"pods\"' in where['ClusterRole/$RELEASE-reader'][1]" \
    "'workloadentries' not in where['ClusterRole/$RELEASE-reader'][1]" \
    "'gateway.networking.k8s.io' in where['Role/$RELEASE'][1]" \
    "where['Role/$RELEASE'][0] == '$NS'"
}

test_schema_rejects_wrong_type() {
  expect_fail_with "/workers': got string, want integer" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set workers=many
  expect_fail_with "/qps'" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set qps=fast
  expect_fail_with "/statusQps'" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set statusQps=-1
  expect_fail_with "/burst': got string, want integer" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set-string burst=100
  expect_fail_with "/remoteStaleTimeout'" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set remoteStaleTimeout=ten-minutes
  expect_fail_with "/replicas': got boolean, want integer" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set replicas=true
  expect_fail_with "/maxResponseMiB'" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set maxResponseMiB=0
  expect_fail_with "/remoteReader/enabled': got string, want boolean" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set-string remoteReader.enabled=yes
}

test_install_rejects_wrong_type() {
  expect_fail_with "/workers': got string, want integer" \
    helm_ install "$RELEASE-bad" "$CHART" -n "$NS" --set clusterName=$CLUSTER --set workers=many
  ! helm_ status "$RELEASE-bad" -n "$NS" >/dev/null 2>&1
}

test_schema_rejects_bad_values() {
  expect_fail_with "/logFormat'" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set logFormat=xml
  expect_fail_with "/logLevel'" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set logLevel=verbose
  expect_fail_with "/image/pullPolicy'" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set image.pullPolicy=Sometimes
  expect_fail_with "/objectShape'" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set objectShape=solo
  # A misspelt key is an error, not silently ignored.
  expect_fail_with "workerz" \
    render "$WORK/x.yaml" --set clusterName=$CLUSTER --set workerz=3
}

test_schema_requires_cluster_name() {
  expect_fail_with "missing property 'clusterName'" render "$WORK/x.yaml"
  expect_fail_with "/clusterName'" render "$WORK/x.yaml" --set clusterName=
  # Even with the schema skipped, the template refuses to guess.
  expect_fail_with "clusterName is required" render "$WORK/x.yaml" --skip-schema-validation
}

test_kube_version_constraint() {
  expect_fail_with "incompatible with Kubernetes" \
    "$HELM" template x "$CHART" --set clusterName=$CLUSTER --kube-version v1.27.0
  "$HELM" template x "$CHART" --set clusterName=$CLUSTER --kube-version v1.37.0-rc.1 >/dev/null
}

# ---------------------------------------------------------------------------
# against the test bed

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

test_upgrade_to_workload_entries() {
  helm_ upgrade "$RELEASE" "$CHART" -n "$NS" --reuse-values --set objectShape=workload-entries \
    --wait=false >/dev/null
  local verb r
  can "$SA" list pods --all-namespaces
  can "$SA" watch pods --all-namespaces
  can "$READER_SA" list pods --all-namespaces
  for r in serviceentries.networking.istio.io workloadentries.networking.istio.io; do
    for verb in list watch create patch delete; do
      can "$SA" "$verb" "$r" -n default
    done
    cannot "$SA" update "$r" -n default
  done
  for verb in list watch create patch delete; do
    can "$SA" "$verb" gateways.gateway.networking.k8s.io -n "$NS"
    cannot "$SA" "$verb" gateways.gateway.networking.k8s.io -n default
  done
  cannot "$SA" get pods -n default
  cannot "$READER_SA" list workloadentries.networking.istio.io -n default
  # Back to inline: the rules go with it.
  helm_ upgrade "$RELEASE" "$CHART" -n "$NS" --reuse-values --set objectShape=inline \
    --wait=false >/dev/null
  cannot "$SA" list pods --all-namespaces
  cannot "$SA" patch workloadentries.networking.istio.io -n default
}

# An upgrade from 0.1 meets a cluster without the new group's CRDs (Helm
# leaves crds/ alone on upgrade): the NOTES say to apply them; with them, no
# such note.
test_upgrade_notes_new_api_group() {
  local out
  k delete crd remoteclusters.globalsvc.io >/dev/null
  out=$(helm_ upgrade "$RELEASE" "$CHART" -n "$NS" --reuse-values --wait=false 2>&1)
  k apply -f "$CHART/crds/" >/dev/null
  grep -q "UPGRADE: the status resources" <<<"$out" || { echo "$out"; return 1; }
  grep -q "kubectl apply -f <this chart>/crds/" <<<"$out" || { echo "$out"; return 1; }
  k wait --for=condition=Established crd/remoteclusters.globalsvc.io --timeout=60s >/dev/null
  out=$(helm_ upgrade "$RELEASE" "$CHART" -n "$NS" --reuse-values --wait=false 2>&1)
  if grep -q "UPGRADE:" <<<"$out"; then
    echo "the note shows although the CRDs are there:"
    echo "$out"
    return 1
  fi
}

test_upgrade_to_ha() {
  helm_ upgrade "$RELEASE" "$CHART" -n "$NS" --reuse-values --set replicas=2 \
    --wait=false >/dev/null
  k get -n "$NS" "poddisruptionbudget/$RELEASE" >/dev/null
  [[ $(k get -n "$NS" "deployment/$RELEASE" -o jsonpath='{.spec.replicas}') == 2 ]]
  grep -q kubernetes.io/hostname <<<"$(k get -n "$NS" "deployment/$RELEASE" \
    -o jsonpath='{.spec.template.spec.affinity.podAntiAffinity}')"
}

gone() { # ARGS of kubectl get: must find nothing
  local out
  out=$(k get "$@" --ignore-not-found -o name 2>&1)
  [[ -z $out ]] || { echo "still there: $out"; return 1; }
}

test_uninstall() {
  helm_ uninstall "$RELEASE" -n "$NS" --wait --timeout 60s >/dev/null
  gone -n "$NS" "serviceaccount/$SA" "deployment/$RELEASE" "service/$RELEASE-metrics" \
    "role/$RELEASE" "rolebinding/$RELEASE" "role/$RELEASE-reader" \
    "rolebinding/$RELEASE-reader" "serviceaccount/$READER_SA" "secret/$READER_SA-token" \
    "poddisruptionbudget/$RELEASE"
  gone "clusterrole/$RELEASE" "clusterrolebinding/$RELEASE" "clusterrole/$RELEASE-reader" \
    "clusterrolebinding/$RELEASE-reader"
  # The pods go with the Deployment.
  wait_for 30 gone -n "$NS" pods -l "app.kubernetes.io/instance=$RELEASE"
  ! helm_ status "$RELEASE" -n "$NS" >/dev/null 2>&1
}

# ---------------------------------------------------------------------------

main() {
  local bin
  "$TESTBED" build
  bin=$("$TESTBED" bin)
  HELM=$bin/helm
  KUBECTL=$bin/kubectl
  command -v python3 >/dev/null || { echo "python3 is needed (scripts/setup installs it)"; exit 1; }

  echo "== chart: offline"
  check "the chart packages the project's CRDs unchanged" test_crds_match
  check "helm lint is clean (also --strict, also with every option on)" test_lint
  check "helm template renders the default objects" test_render_default
  check "by default the remote Secrets have a namespace of their own" \
    test_render_default_secret_namespace
  check "replicas > 1 adds a PodDisruptionBudget and pod anti-affinity" test_render_ha
  check "replicas > 1 without leader election is refused" test_render_ha_needs_leader_election
  check "the ServiceMonitor is rendered only when enabled" test_render_service_monitor_only_when_enabled
  check "networkPolicy.enabled adds a NetworkPolicy open to metricsFrom only" test_render_network_policy
  check "remoteReader.enabled adds the reader ServiceAccount, token and bindings" test_render_remote_reader
  check "namespace and secretNamespace place the Roles" test_render_namespaces
  check "values become the controller's flags" test_render_flags
  check "the workload-entries shape adds its RBAC, and only it" test_render_shape_rbac
  check "the schema rejects a wrong type, naming the field" test_schema_rejects_wrong_type
  check "the schema rejects bad enums and unknown keys" test_schema_rejects_bad_values
  check "clusterName is required" test_schema_requires_cluster_name
  check "kubeVersion accepts v1.37 (also pre-releases) and refuses v1.27" test_kube_version_constraint

  if [[ -n ${GLOBALSVC_TESTBED_DIR:-} ]] && "$TESTBED" status >/dev/null 2>&1; then
    :
  else
    GLOBALSVC_TESTBED_DIR=$WORK/testbed
    export GLOBALSVC_TESTBED_DIR
    OWN_TESTBED=1
    "$TESTBED" up --clusters 1 >/dev/null
  fi
  KUBECONFIG_FILE=$GLOBALSVC_TESTBED_DIR/$CLUSTER/kubeconfig
  # The dry runs below apply objects into the secret namespace.
  k create namespace "$SECRETS_NS" --dry-run=client -o yaml | k apply -f - >/dev/null

  echo "== chart: test bed ($GLOBALSVC_TESTBED_DIR)"
  check "the API server accepts the rendered chart (dry-run=server)" test_dry_run_default
  check "the API server accepts the chart with every option on" test_dry_run_all_options
  check "the pods meet the restricted Pod Security Standard" test_pod_security_restricted
  check "helm install rejects a wrong type before creating anything" test_install_rejects_wrong_type
  check "a new install creates the remote Secrets' namespace" test_new_install_gets_secret_namespace
  check "an install that already has remote Secrets in its control-plane namespace keeps them" \
    test_existing_remote_secrets_stay
  check "helm install into $NS succeeds and creates every object" test_install
  # check runs each test in a subshell: ask helm whether the release is there.
  if helm_ status "$RELEASE" -n "$NS" >/dev/null 2>&1; then
    INSTALLED=1
    legacy_crds | k apply -f - >/dev/null
    k wait --for=condition=Established crd/remoteclusters.globalsvc.solo.io \
      crd/globalservices.globalsvc.solo.io --timeout=60s >/dev/null
    check "the controller's ServiceAccount may do its job" test_controller_rbac_allows
    check "the controller's ServiceAccount may not write elsewhere" test_controller_rbac_forbids
    legacy_crds | k delete --ignore-not-found -f - >/dev/null
    check "as the ServiceAccount: ServiceEntry writes only in $NS, no Service writes" \
      test_controller_writes_only_in_control_plane_namespace
    check "as the ServiceAccount: GlobalService status only in $NS (CRDs installed)" \
      test_status_objects_only_in_control_plane_namespace
    check "the reader ServiceAccount reads and cannot write" test_reader_rbac
    check "the reader token works in a kubeconfig of its own" test_reader_token_works
    check "objectShape=workload-entries grants its writes and Pod reads, and takes them back" \
      test_upgrade_to_workload_entries
    check "an upgrade without the globalsvc.io CRDs says to apply them" \
      test_upgrade_notes_new_api_group
    check "helm upgrade to 2 replicas adds the PodDisruptionBudget" test_upgrade_to_ha
    check "helm uninstall removes everything" test_uninstall
    helm_ status "$RELEASE" -n "$NS" >/dev/null 2>&1 || INSTALLED=0
  fi

  summary
}

main "$@"
