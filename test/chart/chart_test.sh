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

# The checks and their helpers, one module per job, in test/chart/lib/.
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib
# shellcheck source=lib/helpers.sh
source "$LIB_DIR/helpers.sh"
# shellcheck source=lib/offline.sh
source "$LIB_DIR/offline.sh"
# shellcheck source=lib/install.sh
source "$LIB_DIR/install.sh"
# shellcheck source=lib/rbac.sh
source "$LIB_DIR/rbac.sh"
# shellcheck source=lib/upgrade.sh
source "$LIB_DIR/upgrade.sh"

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
