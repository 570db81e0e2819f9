# scripts/demo: the controller of each cluster, a local process: its pid,
# start and stop, readiness, metrics port, and the kubeconfig with the chart's
# ServiceAccount token that it runs with. Sourced by scripts/demo, never run.
# shellcheck shell=bash

# The pid in a controller's pid file, when that process is still the
# controller this demo started (its command line names the state folder).
controller_pid() { # CLUSTER
  local file=$DEMO_DIR/$1/globalsvc.pid pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ -r /proc/$pid/cmdline ]] || return 1
  [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$DEMO_DIR/"* ]] || return 1
  echo "$pid"
}

# True while PID runs. An exited process that its parent has not reaped yet
# (state Z) has stopped, although `kill -0` still finds it.
running() { # PID
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# wait_stopped PID SECONDS : true once PID stopped, false after SECONDS.
wait_stopped() {
  local deadline=$((SECONDS + $2))
  while running "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

stop_controller() { # CLUSTER
  local pid
  pid=$(controller_pid "$1") || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  if ! wait_stopped "$pid" 20; then
    log "the controller of $1 (pid $pid) did not stop within 20 s of SIGTERM: killing it"
    kill -KILL "$pid" 2>/dev/null
    wait_stopped "$pid" 10 || log "the controller of $1 (pid $pid) is still running after SIGKILL"
  fi
  rm -f "$DEMO_DIR/$1/globalsvc.pid"
}

# The server and CA of a cluster, from its admin kubeconfig.
cluster_field() { # CLUSTER JSONPATH
  kubectl config view --raw --minify --context="$1" -o jsonpath="$2"
}

# A kubeconfig for the controller of CLUSTER that authenticates as the chart's
# ServiceAccount (a 48 h token from the TokenRequest API). The token only ever
# goes into this 0600 file.
controller_kubeconfig() { # CLUSTER FILE
  local cluster=$1 file=$2 token server ca
  token=$(kubectl --context="$cluster" create token "$RELEASE" -n "$NS" --duration 48h)
  server=$(cluster_field "$cluster" '{.clusters[0].cluster.server}')
  ca=$(cluster_field "$cluster" '{.clusters[0].cluster.certificate-authority-data}')
  (
    umask 077
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $cluster
  cluster:
    server: $server
    certificate-authority-data: $ca
users:
- name: system:serviceaccount:$NS:$RELEASE
  user:
    token: $token
contexts:
- name: $cluster
  context:
    cluster: $cluster
    user: system:serviceaccount:$NS:$RELEASE
current-context: $cluster
EOF
  )
}

metrics_port() { # CLUSTER : from the controller's log line
  sed -n 's/.*serving metrics and health .*port=\([0-9]*\).*/\1/p' \
    "$DEMO_DIR/$1/globalsvc.log" | tail -n 1
}

ready() { # CLUSTER
  local port
  controller_pid "$1" >/dev/null || { log "the controller of $1 exited"; return 2; }
  port=$(metrics_port "$1")
  [[ -n $port ]] && curl -sf --max-time 2 "http://127.0.0.1:$port/readyz" >/dev/null
}

start_controller() { # CLUSTER
  local cluster=$1 dir=$DEMO_DIR/$1
  controller_kubeconfig "$cluster" "$dir/globalsvc.kubeconfig"
  setsid "$GLOBALSVC" controller --cluster-name "$cluster" \
    --kubeconfig "$dir/globalsvc.kubeconfig" --namespace "$NS" --secret-namespace "$SECRET_NS" \
    --metrics-addr 127.0.0.1:0 --identity "demo-$cluster" \
    >>"$dir/globalsvc.log" 2>&1 </dev/null &
  echo $! >"$dir/globalsvc.pid"
}
