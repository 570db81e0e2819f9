# shellcheck shell=bash
# Clusters of the test bed: the topology file, the objects every cluster
# starts with, bringing one cluster up (certificates, components, CRDs), and
# the state folder that lists them. Sourced by scripts/testbed, never run.

# Prints one line per cluster: name region network nodesPerZone zone,zone...
# Understands the block-style subset of YAML used by topology/default.yaml.
parse_topology() {
  awk '
    function clean(v) { gsub(/^[ \t]+|[ \t]+$/, "", v); gsub(/^["\x27]|["\x27]$/, "", v); return v }
    function flush() {
      if (name != "") print name, region, network, npz, zones
      name = ""; region = ""; network = ""; npz = 2; zones = ""; inzones = 0
    }
    BEGIN { npz = 2 }
    { sub(/#.*/, "") }
    /^[ \t]*$/ { next }
    /^[ \t]*- *name:/ { flush(); v = $0; sub(/^[^:]*:/, "", v); name = clean(v); next }
    /^[ \t]*zones:/ { inzones = 1; next }
    /^[ \t]*- / && inzones { v = $0; sub(/^[ \t]*-/, "", v); zones = zones (zones == "" ? "" : ",") clean(v); next }
    /^[ \t]*[A-Za-z]+:/ {
      inzones = 0; k = $0; sub(/:.*/, "", k); k = clean(k); v = $0; sub(/^[^:]*:/, "", v); v = clean(v)
      if (k == "clusters") next
      else if (k == "region") region = v
      else if (k == "network") network = v
      else if (k == "nodesPerZone") npz = v
      else { printf "unknown key %s on line %d\n", k, NR > "/dev/stderr"; exit 2 }
      next
    }
    { printf "cannot parse line %d: %s\n", NR, $0 > "/dev/stderr"; exit 2 }
    END { flush() }
  ' "$1"
}

# `up --istio` wrote istiod's ports into the cluster's cluster.env.
has_istiod() { grep -q '^ISTIOD_HTTP_PORT=' "$1/cluster.env" 2>/dev/null; }

# Components of one cluster: the fixed ones, then those `up` was asked for.
cluster_components() { # CLUSTER_DIR
  printf '%s\n' "${COMPONENTS[@]}"
  if has_istiod "$1"; then echo istiod; fi
}

cluster_dirs() {
  [[ -f $STATE_DIR/clusters ]] || return 0
  local c
  while read -r c; do echo "$STATE_DIR/$c"; done <"$STATE_DIR/clusters"
}

any_running() {
  local dir comp
  for dir in $(cluster_dirs); do
    for comp in $(cluster_components "$dir"); do
      pid_alive "$dir" "$comp" && return 0
    done
  done
  return 1
}

remove_state() {
  [[ -d $STATE_DIR ]] || return 0
  if [[ -n $(ls -A "$STATE_DIR") && ! -f $STATE_DIR/$STATE_MARKER ]]; then
    die "$STATE_DIR is not empty and is not test-bed state; refusing to remove it"
  fi
  rm -rf "${STATE_DIR:?}"/* "${STATE_DIR:?}/$STATE_MARKER"
  rmdir "$STATE_DIR" 2>/dev/null || true
}

# Objects every cluster starts with: fake nodes per zone, the labelled
# control-plane namespace and the east-west gateway the guide relies on.
bootstrap_yaml() { # CLUSTER_DIR
  # shellcheck source=/dev/null
  source "$1/cluster.env"
  # shellcheck disable=SC2153 # ZONES, REGION, NETWORK, CLUSTER_INDEX come from cluster.env
  local zone i zones_csv=$ZONES region=$REGION network=$NETWORK
  IFS=, read -r -a zones <<<"$zones_csv"
  for zone in "${zones[@]}"; do
    for ((i = 0; i < NODES_PER_ZONE; i++)); do
      cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: node-$zone-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: node-$zone-$i
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
    topology.kubernetes.io/region: $region
    topology.kubernetes.io/zone: $zone
status:
  allocatable:
    cpu: "32"
    memory: 256Gi
    pods: "110"
  capacity:
    cpu: "32"
    memory: 256Gi
    pods: "110"
---
EOF
    done
  done
  cat <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: istio-system
  labels:
    topology.istio.io/network: $network
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-eastwestgateway
  namespace: istio-system
  labels:
    app: istio-eastwestgateway
    istio: eastwestgateway
    topology.istio.io/network: $network
    topology.kubernetes.io/region: $region
    topology.kubernetes.io/zone: ${zones[0]}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: istio-eastwestgateway
  template:
    metadata:
      labels:
        app: istio-eastwestgateway
        istio: eastwestgateway
        topology.istio.io/network: $network
    spec:
      nodeSelector:
        topology.kubernetes.io/zone: ${zones[0]}
      containers:
      - name: istio-proxy
        image: docker.io/istio/proxyv2:${ISTIO_API_VERSION#v}
        ports:
        - name: tls-hbone
          containerPort: 15008
---
# Where other networks reach the gateway. No traffic is sent: the address
# (TEST-NET-1) is data that globalsvc copies into peer Gateways.
apiVersion: v1
kind: Service
metadata:
  name: istio-eastwestgateway
  namespace: istio-system
  labels:
    app: istio-eastwestgateway
    istio: eastwestgateway
    topology.istio.io/network: $network
spec:
  selector:
    app: istio-eastwestgateway
  externalIPs:
  - 192.0.2.$((CLUSTER_INDEX + 1))
  ports:
  - name: tls-hbone
    port: 15008
    targetPort: 15008
EOF
}

# Runs in the background, one per cluster.
start_cluster() {
  local dir=$1 name pki
  name=$(basename "$dir")
  pki=$dir/pki
  # shellcheck source=/dev/null
  source "$dir/cluster.env"

  # Two CAs as in a real cluster: one signs the serving certificate, the
  # other the client certificates the API server trusts.
  new_ca "$pki" serving-ca "$name-serving-ca"
  new_ca "$pki" client-ca "$name-client-ca"
  new_cert "$pki" apiserver serving-ca "/CN=kube-apiserver" \
    "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:$SERVICE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  new_cert "$pki" admin client-ca "/O=system:masters/CN=$name-admin" "extendedKeyUsage=clientAuth"
  new_cert "$pki" kube-controller-manager client-ca "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
  new_cert "$pki" kube-scheduler client-ca "/CN=system:kube-scheduler" "extendedKeyUsage=clientAuth"
  # kwok plays every kubelet (node status, leases, pod status of any pod), so
  # it gets an unrestricted identity.
  new_cert "$pki" kwok client-ca "/O=system:masters/CN=kwok" "extendedKeyUsage=clientAuth"
  local istiod=0
  if has_istiod "$dir"; then istiod=1; fi
  # istiod writes cluster-wide (CA secret, root-cert ConfigMaps, leases,
  # webhook configurations, waypoint Deployments): an unrestricted identity
  # of its own, so its requests are told apart in the API server's log.
  if ((istiod)); then
    new_cert "$pki" istiod client-ca "/O=system:masters/CN=istiod" "extendedKeyUsage=clientAuth"
  fi
  new_key "$pki/sa.key"
  openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null

  local server=https://127.0.0.1:$APISERVER_PORT c
  write_kubeconfig "$dir/kubeconfig" "$name" "$server" "$pki/serving-ca.crt" \
    "$pki/admin.crt" "$pki/admin.key" "$name-admin" embed
  for c in kube-controller-manager kube-scheduler kwok; do
    write_kubeconfig "$dir/$c.kubeconfig" "$name" "$server" "$pki/serving-ca.crt" \
      "$pki/$c.crt" "$pki/$c.key" "$c"
  done
  if ((istiod)); then
    write_kubeconfig "$dir/istiod.kubeconfig" "$name" "$server" "$pki/serving-ca.crt" \
      "$pki/istiod.crt" "$pki/istiod.key" istiod
  fi

  start_component "$dir" etcd
  wait_component "$dir" etcd 30
  start_component "$dir" kube-apiserver
  wait_component "$dir" kube-apiserver 90
  for c in kube-controller-manager kube-scheduler kwok; do
    start_component "$dir" "$c"
  done

  # Server-side apply: Istio's CRDs are too large for the last-applied
  # annotation of client-side apply.
  kubectl_c "$dir" apply --server-side --force-conflicts -f "$ASSET_DIR/istio-crds.yaml" \
    -f "$ASSET_DIR/gateway-api-crds" >"$dir/logs/bootstrap.log" 2>&1 ||
    { log "$name: installing CRDs failed; log: $dir/logs/bootstrap.log"; return 1; }
  bootstrap_yaml "$dir" >"$dir/bootstrap.yaml"
  kubectl_c "$dir" apply --server-side -f "$dir/bootstrap.yaml" >>"$dir/logs/bootstrap.log" 2>&1 ||
    { log "$name: creating nodes and gateway failed; log: $dir/logs/bootstrap.log"; return 1; }

  for c in kube-controller-manager kube-scheduler kwok; do
    wait_component "$dir" "$c" 60
  done
  kubectl_c "$dir" wait --for condition=Established crd --all --timeout 60s >>"$dir/logs/bootstrap.log" 2>&1 ||
    { log "$name: CRDs not established; log: $dir/logs/bootstrap.log"; return 1; }
  kubectl_c "$dir" wait --for condition=Ready node --all --timeout 60s >>"$dir/logs/bootstrap.log" 2>&1 ||
    { log "$name: nodes not Ready; log: $dir/logs/bootstrap.log"; return 1; }
  # The gateway becoming Available proves the whole chain works: service
  # accounts, replica sets, scheduling and kwok's pod status.
  kubectl_c "$dir" -n istio-system wait --for condition=Available deployment/istio-eastwestgateway \
    --timeout 90s >>"$dir/logs/bootstrap.log" 2>&1 ||
    { log "$name: istio-eastwestgateway not Available; log: $dir/logs/bootstrap.log"; return 1; }
  kubectl_c "$dir" -n default wait --for create serviceaccount/default --timeout 30s >>"$dir/logs/bootstrap.log" 2>&1 ||
    { log "$name: default service account missing; log: $dir/logs/bootstrap.log"; return 1; }

  if ((istiod)); then
    # Last, like an install into a running cluster: istio-system already
    # carries its network label, which istiod reads as its own network.
    istiod_config "$dir" || return 1
    start_component "$dir" istiod
    wait_component "$dir" istiod 180
  fi
}
