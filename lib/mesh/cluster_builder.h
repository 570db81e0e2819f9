#pragma once

// Builds a ClusterState from a bag of Kubernetes objects (a `kubectl get -o
// yaml` dump): Lists are expanded, each kind goes to its decoder, other kinds
// are ignored. The cluster's network is the topology.istio.io/network label of
// the control-plane namespace unless given explicitly.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lib/mesh/cluster_state.h"
#include "lib/mesh/diagnostic.h"
#include "lib/mesh/model.h"

namespace globalsvc::mesh {

struct ClusterBuildOptions {
  std::string cluster_name;
  std::string control_plane_namespace = kDefaultControlPlaneNamespace;
  std::string network;  // empty: from the control-plane namespace label
};

class ClusterBuilder {
 public:
  explicit ClusterBuilder(ClusterBuildOptions options, Diagnostics* diagnostics)
      : options_(std::move(options)), diagnostics_(diagnostics) {}

  // Adds one object, or every item of a List.
  void Add(const nlohmann::json& object);

  [[nodiscard]] ClusterState Build() &&;

 private:
  [[nodiscard]] bool InControlPlaneNamespace(const nlohmann::json& object) const;

  ClusterBuildOptions options_;
  Diagnostics* diagnostics_;
  ClusterState state_{options_.cluster_name, options_.network};
};

}  // namespace globalsvc::mesh
