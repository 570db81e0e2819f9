# The assertion harness of the shell tests (chart, demo, test bed, image):
# named cases, their output shown only on failure, polling with a deadline,
# and a `N passed, M failed` summary. Sourced, never run.
# shellcheck shell=bash

PASSED=0
FAILED=0
SKIPPED=0

pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "skip - $1${2:+: $2}"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1${2:+: $2}"; }

# check NAME COMMAND... : one test case; its output is shown only on failure.
# COMMAND runs in a subshell with errexit on, so any failing step fails the
# case. (Called as `if out=$(...)` bash would ignore errexit inside COMMAND,
# and only its last step would count.)
check() {
  local name=$1 out rc; shift
  set +e
  out=$(set -e; "$@" 2>&1)
  rc=$?
  set -e
  if ((rc == 0)); then
    pass "$name"
  else
    fail "$name"
    printf '%s\n' "$out" | sed 's/^/       /' | tail -n "${CHECK_OUTPUT_LINES:-30}"
  fi
}

# wait_for SECONDS COMMAND... : polls COMMAND until it succeeds or the
# deadline passes (then prints COMMAND's last output and fails).
wait_for() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout)) out
  until out=$("$@" 2>&1); do
    if ((SECONDS >= deadline)); then
      echo "condition not met within ${timeout}s: $*"
      printf '%s\n' "$out"
      return 1
    fi
    sleep 0.2
  done
}

# summary : the last line of every suite; its status is the suite's.
summary() {
  echo "$PASSED passed, $FAILED failed$( ((SKIPPED == 0)) || echo ", $SKIPPED skipped")"
  ((FAILED == 0))
}
