# shellcheck shell=bash
# test/demo/demo_test.sh: the demo's life: scripts/demo runs end to end, and
# scripts/demo down stops the controllers and removes the state. Sourced, never run.

test_demo_runs() {
  "$REPO_ROOT/scripts/demo" >"$OUT" 2>&1 || { tail -n 40 "$OUT"; return 1; }
  grep -q '^======== Done in' "$OUT"
}

# A process that exited but is not reaped yet (state Z) counts as stopped.
process_running() { # PID
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# The controllers stop on SIGTERM (no SIGKILL needed) and the state is gone.
test_demo_down() {
  local pids=() c p said
  for c in cluster1 cluster2; do pids+=("$(<"$GLOBALSVC_DEMO_DIR/$c/globalsvc.pid")"); done
  said=$("$REPO_ROOT/scripts/demo" down 2>&1 >/dev/null)
  for p in "${pids[@]}"; do
    if process_running "$p"; then echo "controller $p still running; demo down said: $said"; return 1; fi
  done
  if [[ $said == *"did not stop"* ]]; then echo "$said"; return 1; fi
  [[ ! -e $GLOBALSVC_DEMO_DIR ]]
}
