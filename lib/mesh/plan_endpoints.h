#pragma once

// The endpoints one exporting cluster gives a global service: its ready (or
// serving-but-terminating) addresses from its EndpointSlices, placed directly
// when the cluster shares the target's network, else behind its east-west
// gateways.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/mesh/plan_contributor.h"
#include "lib/mesh/service_entry.h"

namespace globalsvc::mesh {

// One address chosen from an EndpointSlice, with what is needed to place it.
struct ReadyAddress {
  std::string address;
  const Endpoint* endpoint;
  const std::vector<std::pair<std::string, std::int32_t>>* ports;
};

struct ClusterAddresses {
  std::vector<ReadyAddress> ready;
  std::vector<ReadyAddress> terminating;  // serving but terminating
  // Port maps per slice, referenced by ReadyAddress::ports (stable storage).
  std::vector<std::unique_ptr<std::vector<std::pair<std::string, std::int32_t>>>> port_maps;
};

// The addresses of `c`'s EndpointSlices for `key` that may be exported, each
// with its endpoint and the port map of its slice for `entry_ports`.
[[nodiscard]] ClusterAddresses CollectAddresses(const Contributor& c, const std::string& key,
                                                const std::vector<ServiceEntryPort>& entry_ports,
                                                Diagnostics& diagnostics);

// One endpoint per address, on `c`'s network, with its locality.
void AddDirectEndpoints(const Contributor& c, const std::vector<ReadyAddress>& addresses,
                        std::vector<ServiceEntryEndpoint>& out, Diagnostics& diagnostics);

// Endpoints on another network are reached through that cluster's east-west
// gateways: one aggregated endpoint per gateway place (network and
// locality), weighted by the ready endpoints it fronts. An endpoint is
// fronted by the gateway of its own zone when there is one, else by the
// first gateway by name.
void AddGatewayEndpoints(const Contributor& c, const std::vector<ReadyAddress>& addresses,
                         std::vector<ServiceEntryEndpoint>& out, Diagnostics& diagnostics);

}  // namespace globalsvc::mesh
