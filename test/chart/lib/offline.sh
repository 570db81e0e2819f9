# shellcheck shell=bash
# shellcheck disable=SC2086 # CLUSTER, NS, SECRETS_NS: chart_test.sh's constants, single words
# test/chart/chart_test.sh: the offline checks, no cluster needed: the packaged
# CRDs, helm lint, what the chart renders for its values, and what the values
# schema and kubeVersion refuse. Sourced, never run.

# The chart's crds/ must be the project's crds/, byte for byte.
test_crds_match() {
  diff -r "$REPO_ROOT/crds" "$REPO_ROOT/manifests/charts/globalsvc/crds"
}

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
