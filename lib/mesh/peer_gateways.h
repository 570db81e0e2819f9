#pragma once

// The peer Gateways of the WorkloadEntry shape: one `istio-remote` Gateway
// per remote network, from which istiod learns that network's east-west
// gateway address.

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lib/mesh/cluster_state.h"
#include "lib/mesh/diagnostic.h"
#include "lib/mesh/istio_objects.h"

namespace globalsvc::mesh {

// Where istiod learns a remote network's east-west gateway.
inline constexpr const char* kPeerGatewayPrefix = "globalsvc-remote-";

struct PeerGateway {
  std::string name;  // globalsvc-remote-<network>, hashed when not a DNS label
  std::string namespace_name;
  std::string network;
  std::string address;
  std::string cluster;  // the remote cluster whose gateway it is

  friend bool operator==(const PeerGateway&, const PeerGateway&) = default;
};

// One peer Gateway per network other than the target's: the first gateway
// with an address, by cluster then gateway name. A network whose gateways
// have no address gets none, and a warning (its endpoints are unroutable).
[[nodiscard]] std::vector<PeerGateway> PlanPeerGateways(
    std::span<const ClusterState* const> clusters, const std::string& target_cluster,
    const ShapeOptions& options, Diagnostics& diagnostics);

[[nodiscard]] nlohmann::json ToJson(const PeerGateway& gateway);

// A peer Gateway globalsvc wrote, read back (an earlier run's, to keep a
// network reachable until the cluster behind it syncs); nullopt for any
// other object or one without name, network or address.
[[nodiscard]] std::optional<PeerGateway> PeerGatewayFromJson(const nlohmann::json& object);

}  // namespace globalsvc::mesh
