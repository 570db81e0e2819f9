# scripts/demo: the sample workloads in the clusters: ready replicas, pod
# counts, the zone a pod runs in, scaling as the guide does, and whether the
# peer Gateway got its address. Sourced by scripts/demo, never run.
# shellcheck shell=bash

available_replicas_are() { # CLUSTER N
  local got
  got=$(kubectl --context="$1" get deploy -n httpbin in-ambient -o jsonpath='{.status.readyReplicas}')
  [[ ${got:-0} == "$2" ]]
}

pods_are() { # CLUSTER N : exactly N in-ambient pods exist (none terminating)
  local got
  got=$(kubectl --context="$1" get pods -n httpbin -l app=in-ambient -o name | wc -l)
  [[ $got == "$2" ]]
}

scale() { # CLUSTER N : the guide's command, then wait until it is done
  run kubectl --context="$1" scale deployment in-ambient -n httpbin --replicas="$2"
  wait_for "$2 ready in-ambient pods in $1" available_replicas_are "$1" "$2"
}

node_in_zone() { # CLUSTER POD-NAME ZONE : the pod runs on a node of ZONE
  local node zone
  node=$(kubectl --context="$1" get pod -n httpbin "$2" -o jsonpath='{.spec.nodeName}')
  zone=$(kubectl --context="$1" get node "$node" -o jsonpath='{.metadata.labels.topology\.kubernetes\.io/zone}')
  [[ $zone == "$3" ]]
}

pod_in_zone() { # CLUSTER ZONE : name of a Running in-ambient pod in ZONE
  local pod
  for pod in $(kubectl --context="$1" get pods -n httpbin -l app=in-ambient \
    --field-selector=status.phase=Running -o jsonpath='{.items[*].metadata.name}'); do
    if node_in_zone "$1" "$pod" "$2"; then echo "$pod"; return 0; fi
  done
  return 1
}

# region/zone of the single in-ambient pod of CLUSTER.
pod_locality() {
  local pod node
  pod=$(kubectl --context="$1" get pods -n httpbin -l app=in-ambient -o jsonpath='{.items[0].metadata.name}')
  node=$(kubectl --context="$1" get pod -n httpbin "$pod" -o jsonpath='{.spec.nodeName}')
  kubectl --context="$1" get node "$node" \
    -o jsonpath='{.metadata.labels.topology\.kubernetes\.io/region}/{.metadata.labels.topology\.kubernetes\.io/zone}'
}

# The peer Gateway globalsvc wrote in CLUSTER has the address istiod put
# into its status.
peer_gateway_addressed() { # CLUSTER
  [[ -n $(kubectl --context="$1" get gateways.gateway.networking.k8s.io -n "$NS" \
    -l app.kubernetes.io/managed-by=globalsvc -o jsonpath='{.items[*].status.addresses[*].value}') ]]
}
