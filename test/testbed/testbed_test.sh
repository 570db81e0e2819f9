#!/usr/bin/env bash
# Acceptance tests of the test bed (scripts/testbed): two real clusters with
# zones, the pinned Kubernetes version, pods and EndpointSlices that follow
# scaling, Istio's CRD schema validation, RBAC, the fault helpers, and
# istiod's ambient index (`up --istio`).
#
# Reuses the test bed named by GLOBALSVC_TESTBED_DIR when one is running
# there (the istiod cases are skipped when it runs no istiod); otherwise
# starts its own, with istiod, in a fresh state folder and removes it at the
# end. Prints `N passed, M failed` last and exits non-zero on a failure.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../support/harness.sh
source "$REPO_ROOT/test/support/harness.sh"
TESTBED=$REPO_ROOT/scripts/testbed
SAMPLES=$REPO_ROOT/manifests/samples
# shellcheck source=versions.env
source "$REPO_ROOT/test/testbed/versions.env"

OWN_TESTBED=0
WORK=$(mktemp -d)

cleanup() {
  if ((OWN_TESTBED)); then
    "$TESTBED" down >/dev/null 2>&1 || echo "warning: scripts/testbed down failed for $GLOBALSVC_TESTBED_DIR" >&2
  elif [[ -n ${KUBECTL:-} ]]; then
    k cluster1 delete namespace httpbin --wait=false >/dev/null 2>&1 || true
    k cluster2 delete namespace httpbin --wait=false >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT




k() { # CLUSTER KUBECTL-ARGS...
  local cluster=$1; shift
  "$KUBECTL" --kubeconfig "$GLOBALSVC_TESTBED_DIR/$cluster/kubeconfig" "$@"
}

cluster_var() { # CLUSTER VAR -> value from the cluster's cluster.env
  # shellcheck source=/dev/null
  (source "$GLOBALSVC_TESTBED_DIR/$1/cluster.env" && eval "echo \"\$$2\"")
}

# ip_in_cidr IP CIDR (IPv4)
ip_in_cidr() {
  local ip=$1 net=${2%/*} bits=${2#*/} a b c d
  IFS=. read -r a b c d <<<"$ip"
  local x=$(((a << 24) | (b << 16) | (c << 8) | d))
  IFS=. read -r a b c d <<<"$net"
  local n=$(((a << 24) | (b << 16) | (c << 8) | d))
  local mask=$(((0xffffffff << (32 - bits)) & 0xffffffff))
  (((x & mask) == (n & mask)))
}

# ---------------------------------------------------------------------------
# test bed

start_testbed() {
  if [[ -n ${GLOBALSVC_TESTBED_DIR:-} && -f $GLOBALSVC_TESTBED_DIR/cluster2/kubeconfig ]] &&
      "$TESTBED" status >/dev/null 2>&1; then
    echo "# reusing the test bed in $GLOBALSVC_TESTBED_DIR"
  else
    GLOBALSVC_TESTBED_DIR=$WORK/testbed
    export GLOBALSVC_TESTBED_DIR
    OWN_TESTBED=1
    # The build is cached after the first run; time it apart from `up`.
    "$TESTBED" build
    local start
    start=$(date +%s%N)
    if ! "$TESTBED" up --clusters 2 --istio >"$WORK/up.out" 2>"$WORK/up.err"; then
      cat "$WORK/up.err"
      fail "two clusters come up"
      return 1
    fi
    echo "# up --clusters 2 --istio took $((($(date +%s%N) - start) / 1000000)) ms"
  fi
  export GLOBALSVC_TESTBED_DIR
  KUBECTL=$("$TESTBED" bin)/kubectl
  pass "two clusters come up"
}

# ---------------------------------------------------------------------------
# cases

test_status_healthy() {
  local out
  out=$("$TESTBED" status) || { echo "$out"; return 1; }
  echo "$out"
  grep -q '^cluster1 ' <<<"$out" && grep -q '^cluster2 ' <<<"$out"
}

test_nodes_have_zones() {
  local c want got
  for c in cluster1 cluster2; do
    want=$(cluster_var "$c" ZONES | tr , '\n' | sort -u)
    k "$c" get nodes -L topology.kubernetes.io/zone
    got=$(k "$c" get nodes -o jsonpath='{range .items[*]}{.metadata.labels.topology\.kubernetes\.io/zone}{"\n"}{end}' | sort -u)
    [[ $got == "$want" ]] || { echo "$c: zones '$got', want '$want'"; return 1; }
    [[ $(cluster_var "$c" REGION) == "$(k "$c" get nodes -o jsonpath='{.items[0].metadata.labels.topology\.kubernetes\.io/region}')" ]] ||
      { echo "$c: wrong region label"; return 1; }
  done
  [[ $(cluster_var cluster1 ZONES) == us-east-1a,us-east-1b && $(cluster_var cluster2 ZONES) == us-west-2a,us-west-2b ]] ||
    { echo "default topology zones differ from the guide"; return 1; }
}

test_nodes_ready() {
  local c
  for c in cluster1 cluster2; do
    k "$c" wait --for condition=Ready node --all --timeout 30s
  done
}

test_version() {
  local c v
  for c in cluster1 cluster2; do
    v=$(k "$c" get --raw /version)
    grep -q "\"gitVersion\": *\"$KUBERNETES_VERSION\"" <<<"$v" || { echo "$c /version: $v"; return 1; }
  done
}

test_mesh_topology_objects() {
  local c net region zone
  for c in cluster1 cluster2; do
    net=$(cluster_var "$c" NETWORK)
    region=$(cluster_var "$c" REGION)
    zone=$(cluster_var "$c" ZONES)
    zone=${zone%%,*}
    [[ $(k "$c" get ns istio-system -o jsonpath='{.metadata.labels.topology\.istio\.io/network}') == "$net" ]] ||
      { echo "$c: istio-system not labelled with network $net"; return 1; }
    [[ $(k "$c" -n istio-system get deploy istio-eastwestgateway \
      -o jsonpath='{.metadata.labels.topology\.istio\.io/network}/{.metadata.labels.topology\.kubernetes\.io/region}/{.metadata.labels.topology\.kubernetes\.io/zone}') == "$net/$region/$zone" ]] ||
      { echo "$c: gateway labels wrong"; return 1; }
  done
  [[ $(cluster_var cluster1 NETWORK) == cluster1-network && $(cluster_var cluster2 NETWORK) == cluster2-network ]]
}

test_helm_reaches_cluster() {
  local helm
  helm=$("$TESTBED" bin)/helm
  "$helm" version --short | grep -q "^$HELM_VERSION" || { "$helm" version; return 1; }
  "$helm" --kubeconfig "$GLOBALSVC_TESTBED_DIR/cluster1/kubeconfig" list --all-namespaces
}

test_crds_established() {
  local c crd
  for c in cluster1 cluster2; do
    for crd in serviceentries.networking.istio.io destinationrules.networking.istio.io \
               workloadentries.networking.istio.io gateways.gateway.networking.k8s.io \
               httproutes.gateway.networking.k8s.io; do
      k "$c" wait --for condition=Established "crd/$crd" --timeout 10s
    done
  done
}

ready_endpoints() { # CLUSTER -> "ip zone node" per ready endpoint of in-ambient
  k "$1" -n httpbin get endpointslices -l kubernetes.io/service-name=in-ambient \
    -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]} {.zone} {.nodeName}{"\n"}{end}'
}

count_ready_endpoints() { # CLUSTER N
  local n
  n=$(ready_endpoints "$1" | grep -c . || true)
  [[ $n == "$2" ]] || { echo "$1: $n ready endpoints, want $2"; ready_endpoints "$1"; return 1; }
}

test_sample_two_replicas_in_two_zones() {
  k cluster1 apply -f "$SAMPLES/in-ambient.yaml" -f "$SAMPLES/client-in-ambient.yaml"
  k cluster1 -n httpbin scale deployment in-ambient --replicas 2
  wait_for 60 k cluster1 -n httpbin wait --for jsonpath='{.status.readyReplicas}'=2 deployment/in-ambient --timeout 5s
  local pods phase ip node zones="" line pod_cidr
  pod_cidr=$(cluster_var cluster1 POD_CIDR)
  pods=$(k cluster1 -n httpbin get pods -l app=in-ambient --field-selector status.phase=Running \
    -o jsonpath='{range .items[*]}{.status.phase} {.status.podIP} {.spec.nodeName}{"\n"}{end}')
  echo "$pods"
  [[ $(grep -c . <<<"$pods") == 2 ]] || { echo "want 2 Running pods"; return 1; }
  while read -r phase ip node; do
    [[ $phase == Running && -n $ip ]] || { echo "pod without IP"; return 1; }
    ip_in_cidr "$ip" "$pod_cidr" || { echo "pod IP $ip outside $pod_cidr"; return 1; }
    zones+="$(k cluster1 get node "$node" -o jsonpath='{.metadata.labels.topology\.kubernetes\.io/zone}') "
  done <<<"$pods"
  read -r -a line <<<"$zones"
  [[ ${#line[@]} == 2 && ${line[0]} != "${line[1]}" ]] || { echo "pods not in two zones: $zones"; return 1; }
}

test_endpointslice_has_two_ready_endpoints() {
  wait_for 30 count_ready_endpoints cluster1 2
  local ip zone node
  while read -r ip zone node; do
    [[ -n $ip && -n $zone && -n $node ]] || { echo "endpoint lacks zone or nodeName: '$ip $zone $node'"; return 1; }
    [[ $(k cluster1 get node "$node" -o jsonpath='{.metadata.labels.topology\.kubernetes\.io/zone}') == "$zone" ]] ||
      { echo "endpoint zone $zone is not its node's zone"; return 1; }
  done < <(ready_endpoints cluster1)
}

test_scale_to_zero_empties_endpointslice() {
  k cluster1 -n httpbin scale deployment in-ambient --replicas 0
  wait_for 30 count_ready_endpoints cluster1 0
  wait_for 30 bash -c "[[ -z \$('$KUBECTL' --kubeconfig '$GLOBALSVC_TESTBED_DIR/cluster1/kubeconfig' -n httpbin get pods -l app=in-ambient -o name) ]]"
}

test_clusters_use_distinct_ranges() {
  k cluster2 apply -f "$SAMPLES/in-ambient.yaml"
  wait_for 60 count_ready_endpoints cluster2 1
  local ip1 ip2 svc1 svc2
  ip2=$(ready_endpoints cluster2 | awk '{print $1}')
  ip_in_cidr "$ip2" "$(cluster_var cluster2 POD_CIDR)" || { echo "cluster2 pod IP $ip2 outside its pod CIDR"; return 1; }
  ip_in_cidr "$ip2" "$(cluster_var cluster1 POD_CIDR)" && { echo "cluster2 pod IP $ip2 inside cluster1's pod CIDR"; return 1; }
  svc1=$(k cluster1 -n httpbin get svc in-ambient -o jsonpath='{.spec.clusterIP}')
  svc2=$(k cluster2 -n httpbin get svc in-ambient -o jsonpath='{.spec.clusterIP}')
  ip_in_cidr "$svc1" "$(cluster_var cluster1 SERVICE_CIDR)" || { echo "cluster1 service IP $svc1"; return 1; }
  ip_in_cidr "$svc2" "$(cluster_var cluster2 SERVICE_CIDR)" || { echo "cluster2 service IP $svc2"; return 1; }
  ip1=$(cluster_var cluster1 POD_CIDR)
  [[ $ip1 != "$(cluster_var cluster2 POD_CIDR)" ]]
}

# apply_rejected CLUSTER YAML PATTERN... : the API server refuses YAML and its
# message matches every PATTERN.
apply_rejected() {
  local cluster=$1 yaml=$2 out p; shift 2
  if out=$(k "$cluster" apply -f - <<<"$yaml" 2>&1); then
    echo "accepted, want rejected: $out"
    k "$cluster" delete -f - --ignore-not-found <<<"$yaml"
    return 1
  fi
  echo "$out"
  for p in "$@"; do
    grep -q -- "$p" <<<"$out" || { echo "message lacks '$p'"; return 1; }
  done
}

serviceentry() { # RESOLUTION PORT
  cat <<EOF
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: testbed-invalid
  namespace: istio-system
spec:
  hosts: [invalid.testbed.mesh.internal]
  location: MESH_INTERNAL
  resolution: $1
  ports:
  - name: http
    number: $2
    protocol: HTTP
EOF
}

test_invalid_serviceentry_rejected() {
  # Two separate objects: the API server skips CEL rules (the port range is
  # one) once the plain OpenAPI checks (the resolution enum) have failed.
  apply_rejected cluster1 "$(serviceentry BOGUS 8000)" 'spec.resolution: Unsupported value: "BOGUS"' &&
    apply_rejected cluster1 "$(serviceentry STATIC 0)" 'spec.ports\[0\].number' 'port must be between 1-65535'
}

test_valid_serviceentry_accepted() {
  k cluster1 apply -f - <<'EOF'
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: testbed-valid
  namespace: istio-system
spec:
  hosts: [valid.testbed.mesh.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - name: http
    number: 8000
    protocol: HTTP
  endpoints:
  - address: 10.244.0.10
    locality: us-east-1/us-east-1a
    network: cluster1-network
EOF
  k cluster1 -n istio-system get serviceentry testbed-valid
  k cluster1 -n istio-system delete serviceentry testbed-valid
}

http_code() { # CLUSTER CURL-ARGS... -> HTTP status of GET pods in default
  local port
  port=$(cluster_var "$1" APISERVER_PORT); local c=$1; shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    --cacert "$GLOBALSVC_TESTBED_DIR/$c/pki/serving-ca.crt" "$@" \
    "https://127.0.0.1:$port/api/v1/namespaces/default/pods"
}

test_service_account_without_rbac_gets_403() {
  k cluster1 -n default create serviceaccount testbed-nobody --dry-run=client -o yaml | k cluster1 apply -f -
  local token code
  token=$(k cluster1 -n default create token testbed-nobody --duration 10m)
  code=$(http_code cluster1 -H "Authorization: Bearer $token")
  k cluster1 -n default delete serviceaccount testbed-nobody
  [[ $code == 403 ]] || { echo "HTTP $code, want 403"; return 1; }
}

test_client_cert_without_rbac_gets_403() {
  local pki=$GLOBALSVC_TESTBED_DIR/cluster1/pki code
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/alice.key" 2>/dev/null
  openssl req -new -key "$WORK/alice.key" -subj "/CN=alice/O=testers" -out "$WORK/alice.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$WORK/alice.ext"
  openssl x509 -req -in "$WORK/alice.csr" -CA "$pki/client-ca.crt" -CAkey "$pki/client-ca.key" \
    -set_serial 7 -days 1 -extfile "$WORK/alice.ext" -out "$WORK/alice.crt" 2>/dev/null
  code=$(http_code cluster1 --cert "$WORK/alice.crt" --key "$WORK/alice.key")
  [[ $code == 403 ]] || { echo "HTTP $code, want 403"; return 1; }
  # And the admin identity is allowed, so the 403 is RBAC's and not a broken setup.
  code=$(http_code cluster1 --cert "$pki/admin.crt" --key "$pki/admin.key")
  [[ $code == 200 ]] || { echo "admin got HTTP $code"; return 1; }
}

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

# istiod (up --istio)

istiod_running() { # scripts/testbed up --istio wrote istiod's ports
  grep -q '^ISTIOD_HTTP_PORT=' "$GLOBALSVC_TESTBED_DIR/cluster1/cluster.env" &&
    grep -q '^ISTIOD_HTTP_PORT=' "$GLOBALSVC_TESTBED_DIR/cluster2/cluster.env"
}

istiod_get() { # CLUSTER PATH -> body of a GET on istiod's debug port
  curl -sf --max-time 10 "http://127.0.0.1:$(cluster_var "$1" ISTIOD_HTTP_PORT)$2"
}

# ambient_workload CLUSTER UID : prints "network addresses serviceAccount
# clusterId" (addresses comma-separated, '-' for none) of the Workload with
# that UID (a trailing * matches any suffix) in istiod's /debug/ambientz;
# fails when there is none. ambientz prints each address as base64 of the
# address text.
ambient_workload() {
  istiod_get "$1" /debug/ambientz | python3 -c '
import base64, fnmatch, json, sys
for w in json.load(sys.stdin)["workloads"] or []:
    if fnmatch.fnmatchcase(w["uid"], sys.argv[1]):
        addrs = ",".join(base64.b64decode(a).decode() for a in w.get("addresses", []))
        print(w.get("network", "-"), addrs or "-", w.get("serviceAccount", "-"), w.get("clusterId", "-"))
        sys.exit(0)
print("no workload " + sys.argv[1])
sys.exit(1)' "$2"
}

ambient_workload_is() { # CLUSTER UID WANT
  local got
  got=$(ambient_workload "$1" "$2") || { echo "$got"; return 1; }
  [[ $got == "$3" ]] || { echo "$2: '$got', want '$3'"; return 1; }
}

ambient_workload_gone() { # CLUSTER UID
  ! ambient_workload "$1" "$2" >/dev/null
}

test_istiod_ready_on_the_cluster_network() {
  local c pod ip
  for c in cluster1 cluster2; do
    istiod_get "$c" /ready >/dev/null || { echo "$c: istiod /ready fails"; return 1; }
    # A here-string ends the line: `read` fails at an end without one.
    read -r pod ip <<<"$(k "$c" -n istio-system get pods -l app=istio-eastwestgateway \
      -o jsonpath='{.items[0].metadata.name} {.items[0].status.podIP}')"
    # The east-west gateway's pod, on the network istiod read from the
    # istio-system label, in the cluster istiod calls by the cluster's name.
    wait_for 30 ambient_workload_is "$c" "$c//Pod/istio-system/$pod" \
      "$(cluster_var "$c" NETWORK) $ip default $c"
  done
}

test_istiod_indexes_serviceentry_endpoints() {
  k cluster1 apply -f - <<'EOF'
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: testbed-ambient
  namespace: istio-system
spec:
  hosts: [ambient.testbed.mesh.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - name: http
    number: 8000
    protocol: HTTP
  endpoints:
  - address: 10.244.0.10
    locality: us-east-1/us-east-1a
    network: cluster1-network
    serviceAccount: in-ambient
  - locality: us-west-2/us-west-2a
    network: cluster2-network
EOF
  local uid=cluster1/networking.istio.io/ServiceEntry/istio-system/testbed-ambient/
  wait_for 30 ambient_workload_is cluster1 "${uid}10.244.0.10" "cluster1-network 10.244.0.10 in-ambient cluster1" &&
    wait_for 30 ambient_workload_is cluster1 "$uid" "cluster2-network - - cluster1" || return 1
  k cluster1 -n istio-system delete serviceentry testbed-ambient
  wait_for 30 ambient_workload_gone cluster1 "$uid*"
}

# istiod_clusters CLUSTER : the cluster IDs istiod reads endpoints from, one
# per line, from /debug/clusterz (its own included).
istiod_clusters() {
  istiod_get "$1" /debug/clusterz | python3 -c '
import json, sys
for c in json.load(sys.stdin) or []:
    print(c["id"])'
}

istiod_reads_cluster() { istiod_clusters "$1" | grep -qx "$2"; }
istiod_forgot_cluster() { ! istiod_reads_cluster "$1" "$2"; }

# globalsvc's remote Secrets carry a label of their own: istiod, which runs
# a multicluster of its own from every Secret labelled istio/multiCluster=true,
# must never pick them up. The same kubeconfig under istio's label is the
# control: istiod reads that one, so the case sees what istiod would do.
test_istiod_ignores_globalsvc_remote_secrets() {
  local kubeconfig ok=0
  kubeconfig=$(base64 -w0 <"$GLOBALSVC_TESTBED_DIR/cluster2/kubeconfig")
  k cluster1 apply -f - <<EOF || return 1
apiVersion: v1
kind: Secret
metadata:
  name: globalsvc-remote-cluster2
  namespace: istio-system
  labels:
    globalsvc.solo.io/remote-cluster: "true"
data:
  cluster2: $kubeconfig
---
apiVersion: v1
kind: Secret
metadata:
  name: testbed-istio-remote
  namespace: istio-system
  labels:
    istio/multiCluster: "true"
data:
  cluster2-through-istio-label: $kubeconfig
EOF
  # istiod handles Secrets in the order it sees them: once it reads the
  # second one, it would have read the first.
  if wait_for 60 istiod_reads_cluster cluster1 cluster2-through-istio-label; then
    if istiod_reads_cluster cluster1 cluster2; then
      echo "istiod reads globalsvc's Secret:"; istiod_clusters cluster1
    else
      ok=1
    fi
  fi
  k cluster1 -n istio-system delete secret globalsvc-remote-cluster2 testbed-istio-remote
  wait_for 60 istiod_forgot_cluster cluster1 cluster2-through-istio-label || ok=0
  ((ok))
}

# Ports handed out in one run never repeat: 1,500 of them from a range of
# about 17,000 would repeat dozens of times if the record of handed-out ports
# were lost (it was, in a $(...) subshell: two components of one test bed got
# the same port, and the second failed to bind).
test_free_ports_unique() {
  local ports
  ports=$("$TESTBED" free-ports 1500)
  [[ $(wc -l <<<"$ports") == 1500 ]]
  [[ -z $(sort <<<"$ports" | uniq -d) ]] || { echo "repeated: $(sort <<<"$ports" | uniq -d | head)"; return 1; }
}

# Every component of every cluster listens on a port of its own.
test_bed_ports_unique() {
  local ports
  ports=$(cat "$GLOBALSVC_TESTBED_DIR"/*/cluster.env | grep -E '^[A-Z_]+_PORT=' | cut -d= -f2)
  [[ -n $ports ]]
  [[ -z $(sort <<<"$ports" | uniq -d) ]] || { echo "repeated: $(sort <<<"$ports" | uniq -d)"; return 1; }
}

# ---------------------------------------------------------------------------

main() {
  check "free ports are handed out once each" test_free_ports_unique
  if ! start_testbed; then
    summary || exit 1
  fi
  # Each case's name is the behaviour it proves.
  check "status reports every component running" test_status_healthy
  check "every component of every cluster has a port of its own" test_bed_ports_unique
  check "nodes carry the topology's zones and regions" test_nodes_have_zones
  check "all nodes are Ready" test_nodes_ready
  check "/version reports $KUBERNETES_VERSION" test_version
  check "istio-system network label and east-west gateway labels" test_mesh_topology_objects
  check "Istio and Gateway API CRDs are Established" test_crds_established
  check "helm $HELM_VERSION reaches the cluster" test_helm_reaches_cluster
  check "in-ambient with 2 replicas runs 2 pods with IPs in two zones" test_sample_two_replicas_in_two_zones
  check "its EndpointSlice has 2 ready endpoints with zone and nodeName" test_endpointslice_has_two_ready_endpoints
  check "scaling to 0 empties the EndpointSlice" test_scale_to_zero_empties_endpointslice
  check "clusters use distinct pod and service ranges" test_clusters_use_distinct_ranges
  check "an invalid ServiceEntry is rejected by Istio's CRD schema" test_invalid_serviceentry_rejected
  check "a valid ServiceEntry is accepted" test_valid_serviceentry_accepted
  check "a service account without RBAC gets 403" test_service_account_without_rbac_gets_403
  check "a client certificate without RBAC gets 403" test_client_cert_without_rbac_gets_403
  if istiod_running; then
    check "istiod is ready and puts the gateway pod on its cluster's network" test_istiod_ready_on_the_cluster_network
    check "istiod's ambient index lists a ServiceEntry's pod-IP and address-less endpoints" \
      test_istiod_indexes_serviceentry_endpoints
    check "istiod ignores globalsvc's remote Secrets and reads istio/multiCluster=true ones" \
      test_istiod_ignores_globalsvc_remote_secrets
  else
    skip "istiod cases" "the reused test bed runs no istiod (scripts/testbed up --istio)"
  fi
  check "stop and start one API server" test_stop_and_start_apiserver
  check "a killed API server restarts at once, five times over" test_killed_apiserver_restarts_at_once
  check "a crashed component is reported with its log and restarts" test_crashed_component_reported
  summary
}

main "$@"
