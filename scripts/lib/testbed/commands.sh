# shellcheck shell=bash
# The commands of scripts/testbed other than build: up, down, status, env,
# stop, start and free-ports, each a cmd_* function that main calls.
# Sourced by scripts/testbed, never run.

cmd_up() {
  local clusters="" topology=$TESTBED_SRC/topology/default.yaml istio=0
  while (($#)); do
    case $1 in
      --istio) istio=1; shift ;;
      --clusters) clusters=${2:?--clusters needs a number}; shift 2 ;;
      --clusters=*) clusters=${1#*=}; shift ;;
      --topology) topology=${2:?--topology needs a file}; shift 2 ;;
      --topology=*) topology=${1#*=}; shift ;;
      *) die "up: unknown argument $1 (usage: up [--clusters N] [--topology FILE] [--istio])" ;;
    esac
  done
  [[ -f $topology ]] || die "topology file $topology not found"
  [[ -z $clusters || $clusters =~ ^[1-9][0-9]*$ ]] || die "--clusters needs a positive number"

  require_built
  if any_running; then
    die "a test bed is already running in $STATE_DIR (scripts/testbed down first, or set GLOBALSVC_TESTBED_DIR)"
  fi
  remove_state
  mkdir -p "$STATE_DIR"
  touch "$STATE_DIR/$STATE_MARKER"

  local -a lines
  mapfile -t lines < <(parse_topology "$topology")
  ((${#lines[@]})) || die "no clusters in $topology"
  clusters=${clusters:-${#lines[@]}}
  ((clusters <= MAX_CLUSTERS)) || die "at most $MAX_CLUSTERS clusters (each needs its own 10.x service and pod range)"
  # More clusters than the file describes: invent the rest in the same shape.
  local k
  for ((k = ${#lines[@]} + 1; k <= clusters; k++)); do
    lines+=("cluster$k region-$k cluster$k-network 2 region-${k}a,region-${k}b")
  done

  local i name region network npz zones dir
  : >"$STATE_DIR/clusters"
  for ((i = 0; i < clusters; i++)); do
    read -r name region network npz zones <<<"${lines[i]}"
    [[ $name =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "cluster name '$name' is not a DNS label"
    [[ -n $region && -n $network && -n $zones && $npz =~ ^[0-9]+$ ]] ||
      die "cluster $name needs region, network, zones and a numeric nodesPerZone"
    dir=$STATE_DIR/$name
    mkdir -p "$dir/pki" "$dir/run" "$dir/logs"
    chmod 700 "$dir/pki"
    echo "$name" >>"$STATE_DIR/clusters"
    # Distinct ranges per cluster so pod and service addresses never collide
    # across clusters: services 10.96+i.0.0/16, pods 10.244+i.0.0/16.
    cat >"$dir/cluster.env" <<EOF
CLUSTER_NAME=$name
CLUSTER_INDEX=$i
REGION=$region
NETWORK=$network
ZONES=$zones
NODES_PER_ZONE=$npz
SERVICE_CIDR=10.$((96 + i)).0.0/16
SERVICE_IP=10.$((96 + i)).0.1
POD_CIDR=10.$((244 + i)).0.0/16
KWOK_FALLBACK_CIDR=10.$((244 + i)).255.0/24
EOF
    local port port_var port_vars=(ETCD_PORT ETCD_PEER_PORT APISERVER_PORT CONTROLLER_MANAGER_PORT
      SCHEDULER_PORT KWOK_PORT)
    ((istio)) && port_vars+=(ISTIOD_HTTP_PORT ISTIOD_GRPC_PORT ISTIOD_SECURE_GRPC_PORT
      ISTIOD_WEBHOOK_PORT ISTIOD_MONITORING_PORT ISTIOD_CTRLZ_PORT)
    for port_var in "${port_vars[@]}"; do
      free_port port
      echo "$port_var=$port" >>"$dir/cluster.env"
    done
  done

  local start=$SECONDS
  local -a pids=() names=()
  for dir in $(cluster_dirs); do
    log "starting $(basename "$dir")"
    start_cluster "$dir" &
    pids+=($!)
    names+=("$(basename "$dir")")
  done
  local failed=0
  for i in "${!pids[@]}"; do
    if ! wait "${pids[i]}"; then
      log "cluster ${names[i]} failed to start"
      failed=1
    fi
  done
  if ((failed)); then
    cmd_status >&2 || true
    die "test bed did not come up; it is left running for inspection: scripts/testbed down removes it"
  fi
  log "$clusters cluster(s) ready in $((SECONDS - start)) s"
  cmd_env
}

cmd_down() {
  local dir comp i
  local -a all=("${COMPONENTS[@]}" "${OPTIONAL_COMPONENTS[@]}")
  # Reverse start order: istiod, the fake kubelets and controllers first, so
  # nothing logs storms of connection errors while the API server goes away.
  # (stop_pid skips a component a cluster does not run.)
  for ((i = ${#all[@]} - 1; i >= 0; i--)); do
    comp=${all[i]}
    for dir in $(cluster_dirs); do stop_pid "$dir" "$comp" TERM; done
  done
  # The state is about to be deleted, so a component that is slow to finish
  # its graceful shutdown (kube-apiserver can wait a long time on open
  # watches) is killed after a short grace period.
  local deadline=$((SECONDS + 5))
  for dir in $(cluster_dirs); do
    for comp in "${all[@]}"; do
      wait_stopped "$dir" "$comp" $((deadline > SECONDS ? deadline - SECONDS : 0)) ||
        stop_pid "$dir" "$comp" KILL
    done
  done
  for dir in $(cluster_dirs); do
    for comp in "${all[@]}"; do
      wait_stopped "$dir" "$comp" 5 || log "$comp of $(basename "$dir") is still running"
    done
  done
  remove_state
  log "test bed in $STATE_DIR stopped and removed"
}

cmd_status() {
  local dir comp bad=0 total=0 rss pid name
  if [[ ! -f $STATE_DIR/clusters ]]; then
    echo "no test bed in $STATE_DIR"
    return 1
  fi
  for dir in $(cluster_dirs); do
    name=$(basename "$dir")
    # shellcheck source=/dev/null
    source "$dir/cluster.env"
    # shellcheck disable=SC2153 # set by cluster.env
    printf '%s  https://127.0.0.1:%s  region %s  network %s\n' "$name" "$APISERVER_PORT" "$REGION" "$NETWORK"
    if has_istiod "$dir"; then
      printf '  istiod debug http://127.0.0.1:%s (/debug/ambientz)  xds 127.0.0.1:%s  xds-tls 127.0.0.1:%s\n' \
        "$ISTIOD_HTTP_PORT" "$ISTIOD_GRPC_PORT" "$ISTIOD_SECURE_GRPC_PORT"
    fi
    for comp in $(cluster_components "$dir"); do
      if pid_alive "$dir" "$comp"; then
        pid=$(<"$dir/run/$comp.pid")
        rss=$(rss_kib "$pid")
        total=$((total + rss))
        if healthy "$dir" "$comp" 2>/dev/null; then
          printf '  %-24s running  pid %-7s rss %5d MiB\n' "$comp" "$pid" $((rss / 1024))
        else
          printf '  %-24s UNHEALTHY pid %-7s log %s\n' "$comp" "$pid" "$dir/logs/$comp.log"
          bad=1
        fi
      elif [[ -f $dir/run/$comp.stopped ]]; then
        printf '  %-24s stopped  (by scripts/testbed stop)\n' "$comp"
        bad=1
      else
        printf '  %-24s CRASHED  log %s\n' "$comp" "$dir/logs/$comp.log"
        bad=1
      fi
    done
  done
  printf 'total rss %d MiB\n' $((total / 1024))
  return "$bad"
}

cmd_env() {
  [[ -f $STATE_DIR/clusters ]] || die "no test bed in $STATE_DIR (scripts/testbed up)"
  local dir name kubeconfigs="" i=1 var
  echo "export GLOBALSVC_TESTBED_DIR=$(printf '%q' "$STATE_DIR")"
  echo "export GLOBALSVC_TESTBED_BIN=$(printf '%q' "$BIN_DIR")"
  for dir in $(cluster_dirs); do
    name=$(basename "$dir")
    var=$(echo "$name" | tr 'a-z-' 'A-Z_')
    echo "export KUBECONFIG_$var=$(printf '%q' "$dir/kubeconfig")"
    if has_istiod "$dir"; then
      # istiod's debug endpoints (/debug/ambientz, /ready) and plaintext xDS.
      (
        # shellcheck source=/dev/null
        source "$dir/cluster.env"
        echo "export GLOBALSVC_TESTBED_ISTIOD_$var=127.0.0.1:$ISTIOD_HTTP_PORT"
        echo "export GLOBALSVC_TESTBED_ISTIOD_XDS_$var=127.0.0.1:$ISTIOD_GRPC_PORT"
      )
    fi
    # The guide's commands address the clusters as ${context1}, ${context2}...
    echo "export context$i=$name"
    kubeconfigs+=${kubeconfigs:+:}$dir/kubeconfig
    i=$((i + 1))
  done
  echo "export KUBECONFIG=$(printf '%q' "$kubeconfigs")"
  echo "export PATH=$(printf '%q' "$BIN_DIR"):\"\$PATH\""
}

component_arg() { # NAME -> canonical component name
  case $1 in
    etcd) echo etcd ;;
    apiserver | kube-apiserver) echo kube-apiserver ;;
    controller-manager | kube-controller-manager) echo kube-controller-manager ;;
    scheduler | kube-scheduler) echo kube-scheduler ;;
    kwok) echo kwok ;;
    istiod) echo istiod ;;
    *) die "unknown component $1 (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, istiod)" ;;
  esac
}

# Stops one component: SIGTERM, then SIGKILL when it has not exited after a
# grace period (kube-apiserver can hang on open watches while shutting down);
# --kill sends SIGKILL at once, like a crash.
cmd_stop() {
  (($# >= 2)) || die "usage: stop CLUSTER COMPONENT [--kill]"
  local dir=$STATE_DIR/$1 comp
  comp=$(component_arg "$2")
  [[ -f $dir/cluster.env ]] || die "no cluster $1 in $STATE_DIR"
  pid_alive "$dir" "$comp" || die "$comp of $1 is not running"
  if [[ ${3:-} == --kill ]]; then
    stop_pid "$dir" "$comp" KILL
  else
    stop_pid "$dir" "$comp" TERM
    if ! wait_stopped "$dir" "$comp" 10; then
      log "$comp of $1 still running 10 s after SIGTERM; sending SIGKILL"
      stop_pid "$dir" "$comp" KILL
    fi
  fi
  wait_stopped "$dir" "$comp" 10 || die "$comp of $1 did not stop"
  touch "$dir/run/$comp.stopped"
  log "stopped $comp of $1"
}

cmd_start() {
  (($# >= 2)) || die "usage: start CLUSTER COMPONENT"
  local dir=$STATE_DIR/$1 comp
  comp=$(component_arg "$2")
  [[ -f $dir/run/$comp.cmd ]] || die "no cluster $1 with $comp in $STATE_DIR"
  pid_alive "$dir" "$comp" && die "$comp of $1 is already running"
  require_built
  rm -f "$dir/run/$comp.stopped"
  if [[ $comp == istiod ]]; then
    # istiod's mode is chosen at every start, so one flag never outlives it.
    local -a ARGV
    local multi_network=false
    case ${3:-} in
      "") ;;
      --multi-network) multi_network=true ;;
      *) die "usage: start CLUSTER istiod [--multi-network]" ;;
    esac
    ISTIOD_MULTI_NETWORK=$multi_network component_args "$dir" istiod
    launch "$dir" istiod "${ARGV[@]}"
  else
    start_saved "$dir" "$comp"
  fi
  wait_component "$dir" "$comp" 90
  log "started $comp of $1"
}

cmd_free_ports() { # N
  [[ ${1:-} =~ ^[0-9]+$ ]] || die "free-ports needs a count"
  local i port
  for ((i = 0; i < $1; i++)); do
    free_port port
    echo "$port"
  done
}
