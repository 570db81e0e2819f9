# shellcheck shell=bash
# test/testbed/testbed_test.sh: the helpers its cases share: kubectl on one
# cluster, a value from a cluster's cluster.env, and whether an IPv4 address
# is in a CIDR. Sourced, never run.

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
