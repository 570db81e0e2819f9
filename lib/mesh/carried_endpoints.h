#pragma once

// Carried-over endpoints: what an earlier run wrote for a remote cluster that
// has not synced since (its API server is down while the controller starts).
// The ServiceEntries already in the local cluster are the only record of that
// cluster's endpoints; keeping them until the cluster syncs means a controller
// restart during a remote outage removes no capacity.
//
// Pure: no I/O, no clocks.

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/mesh/diagnostic.h"
#include "lib/mesh/planner.h"
#include "lib/mesh/service_entry.h"

namespace globalsvc::mesh {

// One cluster's part of one ServiceEntry an earlier run wrote.
struct CarriedService {
  std::vector<ServiceEntryPort> ports;          // of the whole entry (port maps refer to them)
  std::string traffic_distribution;             // as the Service asked for it
  std::vector<ServiceEntryEndpoint> endpoints;  // only those labelled with the cluster

  friend bool operator==(const CarriedService&, const CarriedService&) = default;
};

// Service key ("<ns>/<name>") -> what one cluster had in it.
using CarriedServices = std::map<std::string, CarriedService>;

// The endpoints of each of `clusters` in `entries` (ServiceEntries globalsvc
// wrote), by cluster; a cluster without endpoints anywhere is absent.
[[nodiscard]] std::map<std::string, CarriedServices> CarryOver(
    const std::vector<ServiceEntry>& entries, const std::set<std::string>& clusters);

// A cluster's carried part of one service, for MergeCarried.
struct CarriedPart {
  std::string cluster;
  const CarriedService* service = nullptr;
};

// Adds carried endpoints to the planned entry of one service (which must hold
// none of those clusters' endpoints), or, when no connected cluster exports
// the service any more, builds the entry from the carried parts alone. Ports
// missing from the plan are added from the carried entry (unless their name
// is taken); each endpoint keeps the port names the final entry has.
// Endpoints over `options.max_endpoints` are left out with an Error
// diagnostic. Parts are used in cluster order, so the result is deterministic.
[[nodiscard]] std::optional<ServiceEntry> MergeCarried(std::optional<ServiceEntry> planned,
                                                       std::string_view service_namespace,
                                                       std::string_view service_name,
                                                       std::span<const CarriedPart> parts,
                                                       const PlanOptions& options,
                                                       Diagnostics& diagnostics);

}  // namespace globalsvc::mesh
