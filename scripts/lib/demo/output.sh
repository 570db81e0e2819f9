# scripts/demo: printing, and running a command the way the reader sees it
# (the command line as typed, then its output indented). Sourced by
# scripts/demo, never run.
# shellcheck shell=bash

say() { printf '%s\n' "$*"; }
note() { printf '# %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'demo: %s\n' "$*" >&2; }

step() { printf '\n======== %s ========\n\n' "$*"; }

# run CMD... : prints the command as a user would type it, then runs it with
# its output indented. kubectl is the test bed's, found on PATH.
run() {
  say "\$ $*"
  "$@" 2>&1 | sed 's/^/  /'
}

# run_pipe DISPLAY REMOTE LOCAL : remote-secret of REMOTE applied in LOCAL; the
# Secret (with the token) goes straight into kubectl, never to the terminal.
run_pipe() {
  say "\$ $1"
  "$GLOBALSVC" remote-secret --context="$2" --name="$2" 2> >(sed 's/^/  /' >&2) |
    kubectl --context="$3" apply -f - | sed 's/^/  /'
  local rc=("${PIPESTATUS[@]}")
  ((rc[0] == 0 && rc[1] == 0)) || die "connecting $2 to $3 failed"
}
