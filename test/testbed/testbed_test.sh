#!/usr/bin/env bash
# Acceptance tests of the test bed (scripts/testbed): two real clusters with
# zones, the pinned Kubernetes version, pods and EndpointSlices that follow
# scaling, Istio's CRD schema validation, RBAC, the fault helpers, and
# istiod's ambient index (`up --istio`).
#
# Reuses the test bed named by GLOBALSVC_TESTBED_DIR when one is running
# there (the istiod cases are skipped when it runs no istiod); otherwise
# starts its own, with istiod, in a fresh state folder and removes it at the
# end. Prints `N passed, M failed` last and exits non-zero on a failure.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../support/harness.sh
source "$REPO_ROOT/test/support/harness.sh"
TESTBED=$REPO_ROOT/scripts/testbed
SAMPLES=$REPO_ROOT/manifests/samples
# shellcheck source=versions.env
source "$REPO_ROOT/test/testbed/versions.env"

# The cases and their helpers, one module per job, in test/testbed/lib/.
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib
# shellcheck source=lib/helpers.sh
source "$LIB_DIR/helpers.sh"
# shellcheck source=lib/cluster.sh
source "$LIB_DIR/cluster.sh"
# shellcheck source=lib/workloads.sh
source "$LIB_DIR/workloads.sh"
# shellcheck source=lib/apiserver.sh
source "$LIB_DIR/apiserver.sh"
# shellcheck source=lib/faults.sh
source "$LIB_DIR/faults.sh"
# shellcheck source=lib/istiod.sh
source "$LIB_DIR/istiod.sh"

OWN_TESTBED=0
WORK=$(mktemp -d)

cleanup() {
  if ((OWN_TESTBED)); then
    "$TESTBED" down >/dev/null 2>&1 || echo "warning: scripts/testbed down failed for $GLOBALSVC_TESTBED_DIR" >&2
  elif [[ -n ${KUBECTL:-} ]]; then
    k cluster1 delete namespace httpbin --wait=false >/dev/null 2>&1 || true
    k cluster2 delete namespace httpbin --wait=false >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------
# test bed

start_testbed() {
  if [[ -n ${GLOBALSVC_TESTBED_DIR:-} && -f $GLOBALSVC_TESTBED_DIR/cluster2/kubeconfig ]] &&
      "$TESTBED" status >/dev/null 2>&1; then
    echo "# reusing the test bed in $GLOBALSVC_TESTBED_DIR"
  else
    GLOBALSVC_TESTBED_DIR=$WORK/testbed
    export GLOBALSVC_TESTBED_DIR
    OWN_TESTBED=1
    # The build is cached after the first run; time it apart from `up`.
    "$TESTBED" build
    local start
    start=$(date +%s%N)
    if ! "$TESTBED" up --clusters 2 --istio >"$WORK/up.out" 2>"$WORK/up.err"; then
      cat "$WORK/up.err"
      fail "two clusters come up"
      return 1
    fi
    echo "# up --clusters 2 --istio took $((($(date +%s%N) - start) / 1000000)) ms"
  fi
  export GLOBALSVC_TESTBED_DIR
  KUBECTL=$("$TESTBED" bin)/kubectl
  pass "two clusters come up"
}

# ---------------------------------------------------------------------------

main() {
  check "free ports are handed out once each" test_free_ports_unique
  if ! start_testbed; then
    summary || exit 1
  fi
  # Each case's name is the behaviour it proves.
  check "status reports every component running" test_status_healthy
  check "every component of every cluster has a port of its own" test_bed_ports_unique
  check "nodes carry the topology's zones and regions" test_nodes_have_zones
  check "all nodes are Ready" test_nodes_ready
  check "/version reports $KUBERNETES_VERSION" test_version
  check "istio-system network label and east-west gateway labels" test_mesh_topology_objects
  check "Istio and Gateway API CRDs are Established" test_crds_established
  check "helm $HELM_VERSION reaches the cluster" test_helm_reaches_cluster
  check "in-ambient with 2 replicas runs 2 pods with IPs in two zones" test_sample_two_replicas_in_two_zones
  check "its EndpointSlice has 2 ready endpoints with zone and nodeName" test_endpointslice_has_two_ready_endpoints
  check "scaling to 0 empties the EndpointSlice" test_scale_to_zero_empties_endpointslice
  check "clusters use distinct pod and service ranges" test_clusters_use_distinct_ranges
  check "an invalid ServiceEntry is rejected by Istio's CRD schema" test_invalid_serviceentry_rejected
  check "a valid ServiceEntry is accepted" test_valid_serviceentry_accepted
  check "a service account without RBAC gets 403" test_service_account_without_rbac_gets_403
  check "a client certificate without RBAC gets 403" test_client_cert_without_rbac_gets_403
  if istiod_running; then
    check "istiod is ready and puts the gateway pod on its cluster's network" test_istiod_ready_on_the_cluster_network
    check "istiod's ambient index lists a ServiceEntry's pod-IP and address-less endpoints" \
      test_istiod_indexes_serviceentry_endpoints
    check "istiod ignores globalsvc's remote Secrets and reads istio/multiCluster=true ones" \
      test_istiod_ignores_globalsvc_remote_secrets
  else
    skip "istiod cases" "the reused test bed runs no istiod (scripts/testbed up --istio)"
  fi
  check "stop and start one API server" test_stop_and_start_apiserver
  check "a killed API server restarts at once, five times over" test_killed_apiserver_restarts_at_once
  check "a crashed component is reported with its log and restarts" test_crashed_component_reported
  summary
}

main "$@"
