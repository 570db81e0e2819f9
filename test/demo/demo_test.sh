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

# The checks and their helpers, one module per job, in test/demo/lib/.
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib
# shellcheck source=lib/helpers.sh
source "$LIB_DIR/helpers.sh"
# shellcheck source=lib/lifecycle.sh
source "$LIB_DIR/lifecycle.sh"
# shellcheck source=lib/steps.sh
source "$LIB_DIR/steps.sh"
# shellcheck source=lib/identity.sh
source "$LIB_DIR/identity.sh"
# shellcheck source=lib/remote_secret.sh
source "$LIB_DIR/remote_secret.sh"

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

# ---------------------------------------------------------------------------

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
