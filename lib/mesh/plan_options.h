#pragma once

// What the planner is asked to plan for: the target cluster and the names
// and limits it plans with.

#include <cstddef>
#include <string>

#include "lib/mesh/model.h"

namespace globalsvc::mesh {

// Istio's CRD allows at most this many endpoints in one ServiceEntry.
inline constexpr std::size_t kMaxServiceEntryEndpoints = 4096;

struct PlanOptions {
  std::string target_cluster;
  std::string control_plane_namespace = kDefaultControlPlaneNamespace;
  std::string host_suffix = "mesh.internal";     // the default segment's host domain
  std::string cluster_domain = "cluster.local";  // of <svc>.<ns>.svc.<domain>
  // The objects written can add endpoints to a Kubernetes Service (the
  // WorkloadEntry shape can, the inline shape cannot): takeover of a Service
  // the target cluster has needs it.
  bool can_join_kubernetes_service = true;
  std::size_t max_endpoints = kMaxServiceEntryEndpoints;
};

}  // namespace globalsvc::mesh
