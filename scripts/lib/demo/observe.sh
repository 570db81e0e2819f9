# scripts/demo: waiting for and showing what the clusters hold: istiod's view of
# the global host (view_summary, wait_view), the waypoint's EDS, the
# GlobalService status, ServiceEntries, and each step's snapshot and explain.
# Sourced by scripts/demo, never run.
# shellcheck shell=bash

# wait_for WHAT COMMAND... : polls COMMAND until it succeeds; after TIMEOUT
# seconds prints its last output and stops the demo.
wait_for() {
  local what=$1 out; shift
  local deadline=$((SECONDS + TIMEOUT))
  until out=$("$@" 2>&1); do
    if ((SECONDS >= deadline)); then
      log "timed out after ${TIMEOUT}s waiting for $what"
      printf '%s\n' "$out" >&2
      exit 1
    fi
    sleep 0.3
  done
}

# What upstream istiod hands ztunnel for the global host, as ztunnel would
# receive it (istiod's /debug/ambientz): a first line with the traffic
# distribution the Service asked for (the ServiceEntry's
# globalsvc.solo.io/requested-traffic-distribution, else
# networking.istio.io/traffic-distribution), the load balancing istiod made of
# it and the service's waypoint ("-" for none); then the service's workloads,
# one line each, sorted:
#   <cluster> <locality> pod|gateway*<capacity>
# where the cluster is the one whose network the workload is on. "none" when
# istiod has no such service. With "verbose", pods also show their address
# and identity, and the service its subjectAltNames.
view_summary() { # CLUSTER [verbose]
  local port networks=() c
  port=$(sed -n 's/^ISTIOD_HTTP_PORT=//p' "$DEMO_DIR/$1/cluster.env")
  for c in "${CLUSTERS[@]}"; do networks+=("$(network_of "$c")=$c"); done
  {
    kubectl --context="$1" get serviceentry -n httpbin "$SE" -o json --ignore-not-found
    printf '\n---ambientz---\n'
    curl -sf --max-time 5 "http://127.0.0.1:$port/debug/ambientz"
  } | python3 -c '
import base64, json, sys
verbose = sys.argv[1] == "verbose"
host = sys.argv[2]
cluster_of = dict(arg.split("=", 1) for arg in sys.argv[3:])
entry_text, view_text = sys.stdin.read().split("\n---ambientz---\n")
view = json.loads(view_text)
services = [s for s in view.get("services", []) if s.get("hostname") == host]
if not services:
    print("none"); sys.exit(0)
service = services[0]
annotations = json.loads(entry_text)["metadata"].get("annotations", {}) if entry_text.strip() else {}
requested = annotations.get("globalsvc.solo.io/requested-traffic-distribution") or \
    annotations.get("networking.istio.io/traffic-distribution", "-")
lb = service.get("loadBalancing") or {}
balancing = " ".join(filter(None, [lb.get("mode"), ",".join(lb.get("routingPreference", []))])) or "-"
waypoint = (service.get("waypoint") or {}).get("hostname", {}).get("hostname", "-")
print("distribution %s istiod %s waypoint %s" % (requested, balancing, waypoint))
if verbose:
    print("subjectAltNames " + " ".join(service.get("subjectAltNames", [])))
key = "%s/%s" % (service.get("namespace", ""), host)
lines = []
for w in view.get("workloads", []):
    if key not in (w.get("services") or {}):
        continue
    cluster = cluster_of.get(w.get("network", ""), w.get("network", "?"))
    locality = w.get("locality") or {}
    where = "%s/%s" % (locality.get("region", "-"), locality.get("zone", "-"))
    if w.get("networkGateway"):
        kind = "gateway*%d" % w.get("capacity", 1)
    else:
        kind = "pod"
        if verbose:
            addresses = [base64.b64decode(a).decode() for a in w.get("addresses", [])]
            kind += " %s %s/%s" % (",".join(addresses), w.get("namespace", ""), w.get("serviceAccount", ""))
    lines.append("%s %s %s" % (cluster, where, kind))
print("\n".join(sorted(lines)))
' "${2:-}" "$HOST" "${networks[@]}"
}

network_of() { # CLUSTER : its istio-system network label
  kubectl --context="$1" get namespace "$NS" -o jsonpath='{.metadata.labels.topology\.istio\.io/network}'
}

# The load balancing istiod makes of PreferNetwork and PreferClose, as
# globalsvc writes them (PreferClose): the client's network, region, zone.
BALANCING="FAILOVER NETWORK,REGION,ZONE"
# The waypoint of the global service in istiod's view; step 5 adds one.
WAYPOINT=-

# view_is CLUSTER DISTRIBUTION WORKLOAD-LINE... : istiod's view in CLUSTER
# is exactly this (as view_summary prints it).
view_is() {
  local cluster=$1 distribution=$2 want got; shift 2
  want=$(printf '%s\n' "distribution $distribution istiod $BALANCING waypoint $WAYPOINT" \
    "$(printf '%s\n' "$@" | sort)")
  got=$(view_summary "$cluster")
  [[ $got == "$want" ]] || { printf 'want:\n%s\ngot:\n%s\n' "$want" "$got"; return 1; }
}

wait_view() { # CLUSTER DISTRIBUTION WORKLOAD-LINE...
  wait_for "istiod of $1 to hand ztunnel $HOST with: ${*:3}" view_is "$@"
}

# gs_shows CLUSTER BY-CLUSTER : the GlobalService status of the guide's
# service in CLUSTER counts these endpoints by cluster ("cluster1=1,cluster2=1").
gs_shows() {
  local got
  got=$(kubectl --context="$1" get globalservice -n "$NS" httpbin.in-ambient --ignore-not-found \
    -o jsonpath='{.status.endpointsByCluster}')
  [[ $got == "$2" ]] || { echo "want $2, got ${got:-nothing}"; return 1; }
}

# show_globalservices BY-CLUSTER : once every cluster's status says so, the
# per-service status as kubectl shows it.
show_globalservices() {
  local c
  for c in "${CLUSTERS[@]}"; do
    wait_for "GlobalService httpbin.in-ambient in $c to show $1" gs_shows "$c" "$1"
  done
  for c in "${CLUSTERS[@]}"; do
    say "=== Cluster: $c ==="
    run kubectl --context="$c" get globalservices -n "$NS"
  done
}

show_serviceentries() {
  local c
  for c in "${CLUSTERS[@]}"; do
    say "=== Cluster: $c ==="
    run kubectl --context="$c" get serviceentry,workloadentry -n httpbin
    if kubectl --context="$c" get serviceentry -n httpbin "$SE" >/dev/null 2>&1; then
      say "  what istiod hands ztunnel for $HOST (distribution asked, istiod's load"
      say "  balancing, waypoint, SANs; then workloads: cluster locality pod|gateway*capacity):"
      view_summary "$c" verbose | sed 's/^/    /'
    fi
  done
}

# snapshot STEP : dumps what the clusters hold now into steps/STEP/<cluster>/,
# the layout `globalsvc explain -f` reads.
snapshot() {
  local dir=$DEMO_DIR/steps/$1 c
  rm -rf "$dir"
  for c in "${CLUSTERS[@]}"; do
    mkdir -p "$dir/$c"
    kubectl --context="$c" get serviceentry,workloadentry -A \
      -l app.kubernetes.io/managed-by=globalsvc -o yaml >"$dir/$c/serviceentries.yaml"
    kubectl --context="$c" get destinationrule -n httpbin -o yaml >"$dir/$c/destinationrules.yaml"
    kubectl --context="$c" get nodes -o yaml >"$dir/$c/nodes.yaml"
    kubectl --context="$c" get namespace "$NS" -o yaml >"$dir/$c/namespace.yaml"
    kubectl --context="$c" get deployment -n "$NS" -l topology.istio.io/network -o yaml \
      >"$dir/$c/gateways.yaml"
  done
}

# explain STEP [ARGS...] : snapshot, then explain from the guide's client
# (cluster1, zone us-east-1a); the output is also kept in steps/STEP/explain.txt.
explain() {
  local step=$1; shift
  snapshot "$step"
  local dir=$DEMO_DIR/steps/$step
  say "\$ kubectl --context=<each> get serviceentry,workloadentry,destinationrule,node,... -o yaml > steps/$step/<cluster>/"
  say "\$ globalsvc explain $HOST --from $FROM -f steps/$step $*"
  "$GLOBALSVC" explain "$HOST" --from "$FROM" -f "$dir" "$@" | tee "$dir/explain.txt" |
    sed 's/^/  /'
  "$GLOBALSVC" explain "$HOST" --from "$FROM" -f "$dir" "$@" -o json >"$dir/explain.json"
}

# What istiod hands CLUSTER's waypoint for HOST: its EDS, read by the xDS
# client connected as the waypoint pod, one line per endpoint:
#   priority=<p> locality=<region>/<zone> endpoint=<address:port> weight=<w>
waypoint_eds() { # CLUSTER
  local pod ip node region zone port
  pod=$(kubectl --context="$1" get pods -n httpbin \
    -l gateway.networking.k8s.io/gateway-name=httpbin-waypoint -o jsonpath='{.items[0].metadata.name}')
  ip=$(kubectl --context="$1" get pod -n httpbin "$pod" -o jsonpath='{.status.podIP}')
  node=$(kubectl --context="$1" get pod -n httpbin "$pod" -o jsonpath='{.spec.nodeName}')
  region=$(kubectl --context="$1" get node "$node" -o jsonpath='{.metadata.labels.topology\.kubernetes\.io/region}')
  zone=$(kubectl --context="$1" get node "$node" -o jsonpath='{.metadata.labels.topology\.kubernetes\.io/zone}')
  port=$(sed -n 's/^ISTIOD_GRPC_PORT=//p' "$DEMO_DIR/$1/cluster.env")
  "$XDS_CLIENT" --addr "127.0.0.1:$port" --pod-ip "$ip" --pod "$pod" --namespace httpbin \
    --service-account httpbin-waypoint --cluster-id "$1" --network "$(network_of "$1")" \
    --region "$region" --zone "$zone" --host "$HOST" --port 8000 --timeout 10s
}

# waypoint_eds_has CLUSTER N : istiod hands CLUSTER's waypoint N endpoints.
waypoint_eds_has() {
  local out
  out=$(waypoint_eds "$1") || return 1
  [[ $(grep -c '^priority=' <<<"$out") == "$2" ]]
}

show_waypoint_eds() { # CLUSTER
  say "  what istiod hands $1's waypoint for $HOST (EDS, as the waypoint pod asks for it):"
  local out
  out=$(waypoint_eds "$1") || { say "    (no answer from istiod)"; return 0; }
  printf '%s\n' "${out:-(no endpoint)}" | sed 's/^/    /'
}

waypoint_in_sans() { # CLUSTER
  view_summary "$1" verbose | grep -q '^subjectAltNames .*spiffe://cluster.local/ns/httpbin/sa/httpbin-waypoint'
}
