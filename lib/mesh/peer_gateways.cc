#include "lib/mesh/peer_gateways.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <utility>

#include "lib/base/hash.h"
#include "lib/base/json_fields.h"
#include "lib/mesh/model.h"

namespace globalsvc::mesh {
namespace {

using nlohmann::json;

bool IsDnsLabel(std::string_view text, std::size_t max) {
  if (text.empty() || text.size() > max) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(text.front()) || !alnum(text.back())) return false;
  return std::all_of(text.begin(), text.end(), [&](char c) { return alnum(c) || c == '-'; });
}

// One per remote network: the first gateway (by cluster, then name) with an
// address, or those without one, for the diagnostic.
struct Candidate {
  std::optional<PeerGateway> chosen;
  std::vector<std::pair<std::string, std::string>> without_address;  // cluster, gateway
};

// kPeerGatewayPrefix + network, or + a hash when the network is no DNS label.
std::string PeerGatewayName(const std::string& network) {
  const std::string prefix = kPeerGatewayPrefix;
  return IsDnsLabel(network, 63 - prefix.size()) ? prefix + network : prefix + ShortHash(network);
}

void ReportNoAddress(const std::string& network,
                     const std::vector<std::pair<std::string, std::string>>& without_address,
                     const ShapeOptions& options, Diagnostics& diagnostics) {
  std::string names;
  for (const auto& [cluster, name] : without_address)
    names += (names.empty() ? "" : ", ") + cluster + "/" + name;
  const auto& [first_cluster, first_gateway] = without_address.front();
  diagnostics.push_back(
      {Severity::kWarning,
       DiagnosticCode::kNoGatewayAddress,
       {first_cluster, "Deployment", options.control_plane_namespace, first_gateway},
       "no east-west gateway of network " + network + " has an address (" + names +
           "): the gateway's Service, of the same name and labelled " + kNetworkLabel +
           ", needs a load-balancer address or an external IP; endpoints on that network are "
           "unroutable"});
}

}  // namespace

std::vector<PeerGateway> PlanPeerGateways(std::span<const ClusterState* const> clusters,
                                          const std::string& target_cluster,
                                          const ShapeOptions& options, Diagnostics& diagnostics) {
  std::vector<const ClusterState*> sorted(clusters.begin(), clusters.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const ClusterState* a, const ClusterState* b) { return a->name() < b->name(); });
  std::string target_network;
  bool target_known = false;
  for (const ClusterState* cluster : sorted) {
    if (cluster->name() != target_cluster) continue;
    target_network = cluster->network();
    target_known = true;
  }
  // Nothing is planned for a cluster we do not hold (the planner says so).
  if (!target_known) return {};

  std::map<std::string, Candidate> by_network;
  for (const ClusterState* cluster : sorted) {
    // A cluster on our network (a flat network, or one pinned onto it) is
    // reached directly: its gateways carry nothing for us.
    if (cluster->name() == target_cluster || cluster->network() == target_network) continue;
    for (const auto& [name, gateway] : cluster->gateways()) {
      const std::string& network = gateway.network.empty() ? cluster->network() : gateway.network;
      if (network.empty() || network == target_network) continue;
      Candidate& candidate = by_network[network];
      if (candidate.chosen) continue;
      const std::string address = cluster->AddressOfGateway(name);
      if (address.empty()) {
        candidate.without_address.emplace_back(cluster->name(), name);
        continue;
      }
      candidate.chosen = PeerGateway{PeerGatewayName(network), options.control_plane_namespace,
                                     network, address, cluster->name()};
    }
  }
  std::vector<PeerGateway> out;
  for (auto& [network, candidate] : by_network) {
    if (candidate.chosen) {
      out.push_back(std::move(*candidate.chosen));
    } else {
      ReportNoAddress(network, candidate.without_address, options, diagnostics);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const PeerGateway& a, const PeerGateway& b) { return a.name < b.name; });
  return out;
}

json ToJson(const PeerGateway& gateway) {
  in6_addr scratch{};
  const bool is_ip = inet_pton(AF_INET, gateway.address.c_str(), &scratch) == 1 ||
                     inet_pton(AF_INET6, gateway.address.c_str(), &scratch) == 1;
  return {
      {"apiVersion", "gateway.networking.k8s.io/v1"},
      {"kind", "Gateway"},
      {"metadata",
       {{"name", gateway.name},
        {"namespace", gateway.namespace_name},
        {"labels",
         {{kManagedByLabel, kManagedByValue},
          {kNetworkLabel, gateway.network},
          {kClusterLabel, gateway.cluster}}}}},
      {"spec",
       {{"gatewayClassName", kRemotePeerGatewayClass},
        {"addresses",
         json::array({{{"type", is_ip ? "IPAddress" : "Hostname"}, {"value", gateway.address}}})},
        {"listeners", json::array({{{"name", "cross-network"},
                                    {"port", kHboneGatewayPort},
                                    {"protocol", "HBONE"},
                                    {"tls", {{"mode", "Passthrough"}}},
                                    // The CRD's default, written so that the
                                    // stored object hashes as the desired one.
                                    {"allowedRoutes", {{"namespaces", {{"from", "Same"}}}}}}})}}}};
}

std::optional<PeerGateway> PeerGatewayFromJson(const json& object) {
  const json* metadata = SetFieldOf(object, "metadata");
  const json* labels = metadata ? SetFieldOf(*metadata, "labels") : nullptr;
  const json* spec = SetFieldOf(object, "spec");
  if (StringFieldAt(object, {"kind"}) != "Gateway" || !labels || !spec ||
      StringFieldAt(*labels, {kManagedByLabel}) != kManagedByValue ||
      StringFieldAt(*spec, {"gatewayClassName"}) != kRemotePeerGatewayClass) {
    return std::nullopt;
  }
  PeerGateway gateway;
  gateway.name = StringFieldAt(*metadata, {"name"});
  gateway.namespace_name = StringFieldAt(*metadata, {"namespace"});
  gateway.network = StringFieldAt(*labels, {kNetworkLabel});
  gateway.cluster = StringFieldAt(*labels, {kClusterLabel});
  if (const json* addresses = SetFieldOf(*spec, "addresses");
      addresses && addresses->is_array() && !addresses->empty()) {
    gateway.address = StringFieldAt((*addresses)[0], {"value"});
  }
  if (gateway.name.empty() || gateway.network.empty() || gateway.address.empty()) {
    return std::nullopt;
  }
  return gateway;
}

}  // namespace globalsvc::mesh
