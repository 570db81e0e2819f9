#pragma once

// The ServiceEntry planner: a pure function from what every connected cluster
// holds to the ServiceEntries one target cluster must contain. No I/O, no
// clocks; the same input always gives the same bytes.
//
// Decisions the domain rules leave open (also in README.md of this module):
// - A port number defined differently (name or protocol) across clusters: the
//   local cluster's Service wins, then the remote clusters' by cluster name
//   (never by creationTimestamp: a remote cluster's owner writes that). The
//   same order decides a port name used for two numbers. targetPort may differ
//   per cluster: each endpoint carries its own port map, so that is not a
//   conflict.
// - Endpoints are the ready ones (ready unset means ready, as Kubernetes says).
//   Only when no cluster has a ready endpoint are serving-but-terminating ones
//   used, like kube-proxy's terminating-endpoint fallback, mesh-wide.
// - A Service with both IPv4 and IPv6 EndpointSlices in one cluster (dual
//   stack) contributes its IPv4 addresses, so each pod counts once.
// - Over the endpoint cap, the cap is split between the contributing clusters
//   with max-min fairness (the local cluster served first), so no cluster can
//   crowd out another; each cluster's share is kept round-robin across its
//   localities, and an Error diagnostic gives the per-cluster split.
// - A global Service without any TCP port yields no ServiceEntry (Warning).

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/mesh/cluster_state.h"
#include "lib/mesh/diagnostic.h"
#include "lib/mesh/model.h"
#include "lib/mesh/plan_options.h"
#include "lib/mesh/service_entry.h"

namespace globalsvc::mesh {

// Plans the ServiceEntries of one Service key in the target cluster (none
// when no cluster exports that Service): one per segment whose clusters
// export it to the target (segments.h), the target's own segment's first.
// `clusters` holds every connected cluster, the target included, in any
// order.
[[nodiscard]] std::vector<ServiceEntry> PlanServiceEntries(
    std::string_view service_namespace, std::string_view service_name,
    std::span<const ClusterState* const> clusters, const PlanOptions& options,
    Diagnostics& diagnostics);

// The ServiceEntry of one Service key in the target cluster's own segment,
// or nothing when none of its segment's clusters exports that Service.
[[nodiscard]] std::optional<ServiceEntry> PlanService(std::string_view service_namespace,
                                                      std::string_view service_name,
                                                      std::span<const ClusterState* const> clusters,
                                                      const PlanOptions& options,
                                                      Diagnostics& diagnostics);

struct Plan {
  std::vector<ServiceEntry> entries;  // sorted by name
  Diagnostics diagnostics;
};

// Plans every Service key found in any cluster.
[[nodiscard]] Plan PlanCluster(std::span<const ClusterState* const> clusters,
                               const PlanOptions& options);

}  // namespace globalsvc::mesh
