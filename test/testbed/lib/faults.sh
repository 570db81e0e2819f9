# shellcheck shell=bash
# test/testbed/testbed_test.sh: the fault helpers: stopping, killing and
# restarting components, and status reporting a crashed one. Sourced, never run.

test_stop_and_start_apiserver() {
  "$TESTBED" stop cluster2 kube-apiserver
  if k cluster2 get --raw /readyz --request-timeout 2s; then
    echo "API server still answers after stop"; return 1
  fi
  local out
  out=$("$TESTBED" status || true)
  grep -Eq 'kube-apiserver +stopped' <<<"$out" || { echo "$out"; return 1; }
  "$TESTBED" start cluster2 kube-apiserver
  k cluster2 get --raw /readyz
}

# A killed API server's other threads can still hold its port for a moment
# after its main thread is gone; start must wait for them, or the new one
# fails with "address already in use".
test_killed_apiserver_restarts_at_once() {
  local round
  for round in 1 2 3 4 5; do
    "$TESTBED" stop cluster2 kube-apiserver --kill
    "$TESTBED" start cluster2 kube-apiserver || { echo "round $round"; return 1; }
  done
  k cluster2 get --raw /readyz
}

test_crashed_component_reported() {
  local pid out
  pid=$(<"$GLOBALSVC_TESTBED_DIR/cluster2/run/kwok.pid")
  kill -9 "$pid"
  wait_for 10 bash -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status"
  if out=$("$TESTBED" status); then
    echo "status succeeded with a crashed component: $out"; return 1
  fi
  echo "$out"
  grep -Eq "kwok +CRASHED +log $GLOBALSVC_TESTBED_DIR/cluster2/logs/kwok.log" <<<"$out" || return 1
  "$TESTBED" start cluster2 kwok
  "$TESTBED" status
}
