#pragma once

// What the failover simulator reasons about: the client (a ztunnel's pod or a
// waypoint) and the endpoints of one ServiceEntry as the data plane sees them.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lib/mesh/locality.h"
#include "lib/mesh/model.h"  // the topology label names

namespace globalsvc::failover {

struct FailoverEndpoint {
  std::string address;  // empty: one aggregated endpoint behind an east-west gateway
  std::string cluster;  // label topology.istio.io/cluster
  std::string network;
  mesh::Locality locality;
  std::string node;          // ServiceEntry endpoints carry none, so it is usually empty
  std::uint32_t weight = 1;  // Istio's default when the ServiceEntry omits it
  std::map<std::string, std::string> labels;  // the endpoint's labels as written
  // For a gateway aggregate: the remote cluster's own endpoints, when its
  // ServiceEntry is known. The gateway spreads what it receives over them.
  std::vector<FailoverEndpoint> behind;

  [[nodiscard]] bool is_gateway() const { return address.empty(); }
};

struct FailoverClient {
  std::string cluster;
  std::string network;
  mesh::Locality locality;
  std::string node;
};

// The address, or "gateway(<cluster>)" for an aggregated endpoint.
[[nodiscard]] std::string EndpointDisplayName(const FailoverEndpoint& endpoint);

}  // namespace globalsvc::failover
