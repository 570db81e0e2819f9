# shellcheck shell=bash
# The components of one cluster: the command line of each (etcd, API server,
# controller-manager, scheduler, kwok, istiod and its rendered config), how
# to start one and how to tell it is healthy. Sourced by scripts/testbed.

# Health endpoints (etcd and kwok speak plain HTTP on loopback, the Kubernetes
# components HTTPS; /healthz of the controller-manager and scheduler needs no
# credentials).
healthy() { # CLUSTER_DIR COMPONENT
  local dir=$1 comp=$2
  # shellcheck source=/dev/null
  source "$dir/cluster.env"
  case $comp in
    etcd) curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"' ;;
    kube-apiserver)
      curl -sf --max-time 2 --cacert "$dir/pki/serving-ca.crt" --cert "$dir/pki/admin.crt" \
        --key "$dir/pki/admin.key" "https://127.0.0.1:$APISERVER_PORT/readyz" >/dev/null ;;
    kube-controller-manager) curl -skf --max-time 2 "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz" >/dev/null ;;
    kube-scheduler) curl -skf --max-time 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz" >/dev/null ;;
    kwok) curl -sf --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz" >/dev/null ;;
    # /ready: caches synced (every informer, CRDs included), webhook server up.
    istiod) curl -sf --max-time 2 "http://127.0.0.1:$ISTIOD_HTTP_PORT/ready" >/dev/null ;;
    *) die "unknown component $comp" ;;
  esac
}

component_args() { # CLUSTER_DIR COMPONENT -> sets ARGV
  local dir=$1 comp=$2 pki=$1/pki
  # shellcheck source=/dev/null
  source "$dir/cluster.env"
  case $comp in
    etcd)
      # --unsafe-no-fsync: state is thrown away with the test bed, and fsync
      # dominates write latency on shared disks. The quota keeps a runaway test
      # from filling the disk.
      ARGV=("$BIN_DIR/etcd" --name "$CLUSTER_NAME" --data-dir "$dir/etcd"
        --listen-client-urls "http://127.0.0.1:$ETCD_PORT"
        --advertise-client-urls "http://127.0.0.1:$ETCD_PORT"
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT"
        --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT"
        --initial-cluster "$CLUSTER_NAME=http://127.0.0.1:$ETCD_PEER_PORT"
        --quota-backend-bytes 536870912 --snapshot-count 5000
        --unsafe-no-fsync --log-level warn) ;;
    kube-apiserver)
      ARGV=("$BIN_DIR/kube-apiserver"
        --etcd-servers "http://127.0.0.1:$ETCD_PORT"
        --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT"
        --cert-dir "$pki" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key"
        --client-ca-file "$pki/client-ca.crt"
        --authorization-mode RBAC
        --service-account-issuer "https://$CLUSTER_NAME.testbed.local"
        --service-account-key-file "$pki/sa.pub"
        --service-account-signing-key-file "$pki/sa.key"
        --api-audiences "https://$CLUSTER_NAME.testbed.local"
        --service-cluster-ip-range "$SERVICE_CIDR"
        --allow-privileged=true
        # API priority and fairness costs memory and CPU and buys nothing for
        # a single-tenant test bed.
        --enable-priority-and-fairness=false
        --profiling=false
        --endpoint-reconciler-type none
        --event-ttl 1h) ;;
    kube-controller-manager)
      # Only the controllers that make Deployments, Services and Nodes behave
      # as in a real cluster; the rest cost memory and API traffic.
      ARGV=("$BIN_DIR/kube-controller-manager"
        --kubeconfig "$dir/kube-controller-manager.kubeconfig"
        --authentication-kubeconfig "$dir/kube-controller-manager.kubeconfig"
        --authorization-kubeconfig "$dir/kube-controller-manager.kubeconfig"
        --bind-address 127.0.0.1 --secure-port "$CONTROLLER_MANAGER_PORT"
        --cert-dir "$pki/kube-controller-manager"
        --leader-elect=false
        --use-service-account-credentials=true
        --service-account-private-key-file "$pki/sa.key"
        --root-ca-file "$pki/serving-ca.crt"
        --cluster-name "$CLUSTER_NAME"
        --service-cluster-ip-range "$SERVICE_CIDR"
        --allocate-node-cidrs=true --cluster-cidr "$POD_CIDR" --node-cidr-mask-size 24
        --controllers "$KCM_CONTROLLERS"
        # kwok renews node leases from one process; on a loaded 2-core
        # machine a renewal can be late, and the default grace period then
        # marks every node NotReady and every pod unready for a while.
        --node-monitor-grace-period 5m
        --profiling=false) ;;
    kube-scheduler)
      ARGV=("$BIN_DIR/kube-scheduler"
        --kubeconfig "$dir/kube-scheduler.kubeconfig"
        --authentication-kubeconfig "$dir/kube-scheduler.kubeconfig"
        --authorization-kubeconfig "$dir/kube-scheduler.kubeconfig"
        --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT"
        --cert-dir "$pki/kube-scheduler"
        --leader-elect=false --profiling=false) ;;
    kwok)
      # kwok gives each pod an IP from its node's spec.podCIDR (allocated by
      # the controller-manager from this cluster's pod CIDR); --cidr is only
      # the fallback for a node without one, kept inside the same range.
      ARGV=("$BIN_DIR/kwok" --config "$ASSET_DIR/kwok.yaml"
        --kubeconfig "$dir/kwok.kubeconfig"
        --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake
        --cidr "$KWOK_FALLBACK_CIDR" --node-ip 127.0.0.1
        # Node leases: the heartbeat stage updates node status only every
        # 10 min, so without leases the node-lifecycle controller marks every
        # node Unknown and every pod NotReady after the 5 min grace period.
        --node-lease-duration-seconds 40
        --server-address "127.0.0.1:$KWOK_PORT") ;;
    istiod)
      # pilot-discovery as the istiod chart runs it (templates/deployment.yaml
      # with the ambient profile), outside a pod. env -C: it reads some files
      # from paths relative to its working folder (./var/lib/istio/inject,
      # ./etc/cacerts). The environment is the pod spec's: its namespace
      # (the system namespace, whose topology.istio.io/network label is the
      # cluster's network), names, revision and cluster ID, its own CA,
      # ambient on, and ztunnel's identity trusted to ask for certificates
      # on behalf of workloads. AMBIENT_ENABLE_MULTI_NETWORK is upstream's
      # default, spelled out: each istiod reads only its own cluster;
      # `start CLUSTER istiod --multi-network` turns it on (upstream's own
      # multicluster, reading remotes through istio/multiCluster Secrets).
      ARGV=(env -C "$dir/istiod"
        POD_NAMESPACE=istio-system POD_NAME="istiod-$CLUSTER_NAME" SERVICE_ACCOUNT=istiod
        REVISION=default CLUSTER_ID="$CLUSTER_NAME"
        PILOT_CERT_PROVIDER=istiod PILOT_ENABLE_ANALYSIS=false
        PILOT_ENABLE_AMBIENT=true AMBIENT_ENABLE_MULTI_NETWORK="${ISTIOD_MULTI_NETWORK:-false}"
        CA_TRUSTED_NODE_ACCOUNTS=istio-system/ztunnel
        "$BIN_DIR/pilot-discovery" discovery
        --kubeconfig "$dir/istiod.kubeconfig"
        --clusterID "$CLUSTER_NAME" --domain cluster.local
        --meshConfig "$dir/istiod/etc/istio/config/mesh"
        --networksConfig "$dir/istiod/etc/istio/config/meshNetworks"
        --httpAddr "127.0.0.1:$ISTIOD_HTTP_PORT"
        --grpcAddr "127.0.0.1:$ISTIOD_GRPC_PORT"
        --secureGRPCAddr "127.0.0.1:$ISTIOD_SECURE_GRPC_PORT"
        --httpsAddr "127.0.0.1:$ISTIOD_WEBHOOK_PORT"
        --monitoringAddr "127.0.0.1:$ISTIOD_MONITORING_PORT"
        --ctrlz_address 127.0.0.1 --ctrlz_port "$ISTIOD_CTRLZ_PORT"
        --keepaliveMaxServerConnectionAge 30m
        # After SIGTERM istiod waits this long for connections to drain
        # (default 10 s, as long as `stop` waits before SIGKILL).
        --shutdownDuration 1s) ;;
  esac
}

# Renders istiod's chart for one cluster and writes what the pod would have
# mounted: the mesh config and mesh networks (ConfigMap istio) and the
# injection config and values (ConfigMap istio-sidecar-injector).
istiod_config() { # CLUSTER_DIR
  local dir=$1 out=$1/istiod
  # shellcheck source=/dev/null
  source "$dir/cluster.env"
  mkdir -p "$out/etc/istio/config" "$out/var/lib/istio/inject"
  local spec template key file
  for spec in configmap:mesh:etc/istio/config/mesh \
              configmap:meshNetworks:etc/istio/config/meshNetworks \
              istiod-injector-configmap:config:var/lib/istio/inject/config \
              istiod-injector-configmap:values:var/lib/istio/inject/values; do
    IFS=: read -r template key file <<<"$spec"
    if [[ ! -f $out/$template.yaml ]]; then
      # shellcheck disable=SC2153 # NETWORK comes from cluster.env
      "$BIN_DIR/helm" template istiod "$ASSET_DIR/istio-discovery" --namespace istio-system \
        --set profile=ambient --set global.meshID=mesh1 \
        --set global.multiCluster.clusterName="$CLUSTER_NAME" --set global.network="$NETWORK" \
        --set meshConfig.trustDomain=cluster.local \
        --show-only "templates/$template.yaml" >"$out/$template.yaml" 2>>"$dir/logs/bootstrap.log" ||
        { log "$CLUSTER_NAME: rendering istiod's chart failed; log: $dir/logs/bootstrap.log"; return 1; }
    fi
    # kubectl reads the rendered ConfigMap (client-side dry run), so no YAML
    # parser is needed here.
    if ! kubectl_c "$dir" create --dry-run=client -f "$out/$template.yaml" \
        -o "go-template={{index .data \"$key\"}}" >"$out/$file" 2>>"$dir/logs/bootstrap.log" ||
        [[ ! -s $out/$file ]]; then
      log "$CLUSTER_NAME: no $key in istiod's rendered $template; log: $dir/logs/bootstrap.log"
      return 1
    fi
    # A ConfigMap's block scalar drops the last newline; restore it, so a
    # line appended to the file (a test changing the mesh config) stays a line.
    echo >>"$out/$file"
  done
}

KCM_CONTROLLERS=serviceaccount-token-controller,clusterrole-aggregation-controller,disruption-controller,serviceaccount-controller,namespace-controller,garbage-collector-controller,deployment-controller,replicaset-controller,statefulset-controller,daemonset-controller,job-controller,endpoints-controller,endpointslice-controller,endpointslice-mirroring-controller,node-ipam-controller,node-lifecycle-controller,pod-garbage-collector-controller,root-ca-certificate-publisher-controller,service-cidr-controller,taint-eviction-controller

kubectl_c() { # CLUSTER_DIR ARGS...
  local dir=$1; shift
  "$BIN_DIR/kubectl" --kubeconfig "$dir/kubeconfig" "$@"
}

start_component() { # CLUSTER_DIR COMPONENT
  local -a ARGV
  component_args "$1" "$2"
  launch "$1" "$2" "${ARGV[@]}"
}

wait_component() { # CLUSTER_DIR COMPONENT SECONDS
  local dir=$1 comp=$2 deadline=$((SECONDS + $3))
  until healthy "$dir" "$comp" 2>/dev/null; do
    if ! pid_alive "$dir" "$comp"; then
      log "$comp of $(basename "$dir") exited; log: $dir/logs/$comp.log"
      tail -n 20 "$dir/logs/$comp.log" >&2 || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "$comp of $(basename "$dir") not healthy after $3 s; log: $dir/logs/$comp.log"
      return 1
    fi
    sleep 0.2
  done
}
