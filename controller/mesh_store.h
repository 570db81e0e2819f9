#pragma once

// MeshStore: the lean state of every connected cluster (one mesh::ClusterState
// each), shared by the watch threads that update it and the workers that plan
// from it. Readers plan under a shared lock; each update takes the write lock
// briefly.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "lib/mesh/cluster_state.h"
#include "lib/mesh/planner.h"

namespace globalsvc::controller {

class MeshStore {
 public:
  // Runs `update` on the cluster's state under the write lock, creating the
  // cluster (with `network`) if it is new.
  void Update(const std::string& cluster, const std::function<void(mesh::ClusterState&)>& update);
  // Reads the cluster's state under the shared lock; false if it is unknown.
  bool Read(const std::string& cluster,
            const std::function<void(const mesh::ClusterState&)>& read) const;
  void RemoveCluster(const std::string& cluster);
  [[nodiscard]] std::vector<std::string> ClusterNames() const;

  [[nodiscard]] std::optional<mesh::ServiceEntry> Plan(const std::string& service_namespace,
                                                       const std::string& service_name,
                                                       const mesh::PlanOptions& options,
                                                       mesh::Diagnostics& diagnostics) const;

  // Service keys ("<ns>/<name>") of one cluster, or of all clusters when
  // `cluster` is empty; sorted, without duplicates.
  [[nodiscard]] std::vector<std::string> ServiceKeys(const std::string& cluster = {}) const;

 private:
  mutable std::shared_mutex mutex_;
  // unique_ptr: states keep their address while the map changes.
  std::map<std::string, std::unique_ptr<mesh::ClusterState>> clusters_;
};

}  // namespace globalsvc::controller
