#include "controller/mesh_store.h"

#include <mutex>
#include <set>

namespace globalsvc::controller {

void MeshStore::Update(const std::string& cluster,
                       const std::function<void(mesh::ClusterState&)>& update) {
  std::unique_lock lock(mutex_);
  auto& state = clusters_[cluster];
  if (!state) state = std::make_unique<mesh::ClusterState>(cluster, "");
  update(*state);
}

bool MeshStore::Read(const std::string& cluster,
                     const std::function<void(const mesh::ClusterState&)>& read) const {
  std::shared_lock lock(mutex_);
  auto it = clusters_.find(cluster);
  if (it == clusters_.end()) return false;
  read(*it->second);
  return true;
}

void MeshStore::RemoveCluster(const std::string& cluster) {
  std::unique_lock lock(mutex_);
  clusters_.erase(cluster);
}

std::vector<std::string> MeshStore::ClusterNames() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, state] : clusters_)
    names.push_back(name);
  return names;
}

std::optional<mesh::ServiceEntry> MeshStore::Plan(const std::string& service_namespace,
                                                  const std::string& service_name,
                                                  const mesh::PlanOptions& options,
                                                  mesh::Diagnostics& diagnostics) const {
  std::shared_lock lock(mutex_);
  std::vector<const mesh::ClusterState*> views;
  views.reserve(clusters_.size());
  for (const auto& [name, state] : clusters_)
    views.push_back(state.get());
  return mesh::PlanService(service_namespace, service_name, views, options, diagnostics);
}

std::vector<std::string> MeshStore::ServiceKeys(const std::string& cluster) const {
  std::shared_lock lock(mutex_);
  std::set<std::string> keys;
  for (const auto& [name, state] : clusters_) {
    if (!cluster.empty() && name != cluster) continue;
    for (const auto& [key, service] : state->services())
      keys.insert(key);
  }
  return {keys.begin(), keys.end()};
}

}  // namespace globalsvc::controller
