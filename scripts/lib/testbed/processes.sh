# shellcheck shell=bash
# Processes of the test bed: free loopback ports, launching a component
# detached and recording it, telling whether it still runs, stopping it.
# Knows the run/ files, not what a component is. Sourced by scripts/testbed.

# Ports are picked at run time below the kernel's ephemeral range (so an
# outgoing connection cannot take one before the component binds it), and a
# port is taken as free when nothing accepts a connection on it and it was not
# handed out before in this run (nothing listens on those yet). It sets VAR
# rather than printing: in a $(...) subshell the record of ports handed out
# would be lost, and two components could get the same port.
ALLOCATED_PORTS=" "
free_port() { # VAR
  local low high p tries=0
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  high=$((low - 1))
  low=$((high > 20000 ? 15000 : 1025))
  while ((tries++ < 1000)); do
    p=$((low + (RANDOM * 32768 + RANDOM) % (high - low)))
    [[ $ALLOCATED_PORTS == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      ALLOCATED_PORTS+="$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  die "no free loopback port found"
}

# wait_until DESCRIPTION SECONDS COMMAND... : polls COMMAND until it succeeds
# or the deadline passes.
wait_until() {
  local what=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# launch CLUSTER_DIR NAME COMMAND... : starts a component detached from this
# shell (own session, stdin closed) and records its pid and command line so
# `stop`/`start` can restart it and `down` can stop it.
launch() {
  local dir=$1 name=$2; shift 2
  printf '%q ' "$@" >"$dir/run/$name.cmd"
  start_saved "$dir" "$name"
}

start_saved() {
  local dir=$1 name=$2 cmdline
  cmdline=$(<"$dir/run/$name.cmd")
  local -a argv
  eval "argv=($cmdline)"
  # A lower GOGC than Go's default trades a little CPU for a smaller heap:
  # memory, not CPU, is what limits how many clusters fit on a machine.
  GOGC=${GLOBALSVC_TESTBED_GOGC:-50} setsid "${argv[@]}" >>"$dir/logs/$name.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/run/$name.pid"
  # Until the child has exec'd, its command line is this script's, which
  # pid_alive would take for a component that exited: wait for the exec.
  local tries=0
  while ((tries++ < 50)) && [[ -r /proc/$pid/cmdline ]] &&
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) != *"$STATE_DIR"* ]]; do
    sleep 0.1
  done
  start_time "$pid" >"$dir/run/$name.start"
}

# pid_alive CLUSTER_DIR NAME: the recorded pid is running and is still ours
# (its command line names this state folder), so a recycled pid is never
# mistaken for a component.
pid_alive() {
  local pidfile=$1/run/$2.pid pid
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ -r /proc/$pid/cmdline ]] || return 1
  [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$STATE_DIR"* ]] || return 1
  # A zombie has exited already.
  [[ $(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null) != Z ]]
}

# start_time PID: the kernel's start time of a process (field 22 of its stat,
# read after the command name, which may hold spaces), empty when it is gone.
start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  awk '{print $20}' <<<"$stat"
}

# threads_running CLUSTER_DIR NAME: some thread of the recorded process has
# not exited yet. pid_alive turns false as soon as the main thread has let go
# of its memory, while the other threads may still hold its listening
# sockets: a restart that came then failed with "address already in use".
threads_running() {
  local pid state task
  [[ -f $1/run/$2.pid && -f $1/run/$2.start ]] || return 1
  pid=$(<"$1/run/$2.pid")
  # Another process that got the pid since is not ours.
  [[ $(start_time "$pid") == "$(<"$1/run/$2.start")" ]] || return 1
  for task in /proc/"$pid"/task/*; do
    state=$(awk '/^State:/ {print $2}' "$task/status" 2>/dev/null) || continue
    [[ -z $state || $state == Z || $state == X ]] || return 0
  done
  return 1
}

stop_pid() { # CLUSTER_DIR COMPONENT SIGNAL
  pid_alive "$1" "$2" || return 0
  kill -s "$3" "$(<"$1/run/$2.pid")" 2>/dev/null || true
}

wait_stopped() { # CLUSTER_DIR COMPONENT SECONDS
  local deadline=$((SECONDS + $3))
  while pid_alive "$1" "$2" || threads_running "$1" "$2"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
