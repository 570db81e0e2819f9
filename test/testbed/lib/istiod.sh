# shellcheck shell=bash
# test/testbed/testbed_test.sh: istiod on the test bed (up --istio): ready on
# its cluster's network, its ambient index of ServiceEntry endpoints, and which
# remote Secrets it reads. Sourced, never run.

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
