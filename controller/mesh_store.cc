#include "controller/mesh_store.h"

#include <algorithm>
#include <mutex>
#include <set>

#include "lib/mesh/peer_gateways.h"

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
  carried_.erase(cluster);
  carried_gateways_.erase(cluster);
  withheld_.erase(cluster);
}

void MeshStore::SetCarried(const std::string& cluster, mesh::CarriedServices services) {
  std::unique_lock lock(mutex_);
  if (services.empty()) {
    carried_.erase(cluster);
    carried_gateways_.erase(cluster);
  } else {
    carried_[cluster] = std::move(services);
  }
}

void MeshStore::SetCarriedGateways(const std::string& cluster,
                                   std::vector<mesh::PeerGateway> gateways) {
  std::unique_lock lock(mutex_);
  if (gateways.empty()) {
    carried_gateways_.erase(cluster);
  } else {
    carried_gateways_[cluster] = std::move(gateways);
  }
}

bool MeshStore::HasCarried(const std::string& cluster) const {
  std::shared_lock lock(mutex_);
  return carried_.count(cluster) > 0;
}

void MeshStore::SetWithheld(const std::string& cluster, bool withheld) {
  std::unique_lock lock(mutex_);
  if (withheld) {
    withheld_.insert(cluster);
  } else {
    withheld_.erase(cluster);
  }
}

bool MeshStore::IsWithheld(const std::string& cluster) const {
  std::shared_lock lock(mutex_);
  return withheld_.count(cluster) > 0;
}

std::vector<std::string> MeshStore::ClusterNames() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, state] : clusters_)
    names.push_back(name);
  return names;
}

std::optional<mesh::ServiceEntry> MeshStore::Plan(
    const std::string& service_namespace, const std::string& service_name,
    const mesh::PlanOptions& options, mesh::Diagnostics& diagnostics,
    std::vector<mesh::ServiceEntry>* other_segments) const {
  std::shared_lock lock(mutex_);
  return PlanLocked(service_namespace, service_name, options, diagnostics, other_segments);
}

std::optional<mesh::SegmentMembership> MeshStore::Membership(
    const std::string& cluster, const mesh::PlanOptions& options) const {
  std::shared_lock lock(mutex_);
  auto it = clusters_.find(cluster);
  auto target = clusters_.find(options.target_cluster);
  if (it == clusters_.end() || target == clusters_.end()) return std::nullopt;
  auto membership = mesh::MembershipOf(*it->second, *target->second,
                                       options.control_plane_namespace, options.host_suffix);
  membership.segment = nullptr;  // points into the store; not valid past the lock
  return membership;
}

bool MeshStore::HasAliases() const {
  std::shared_lock lock(mutex_);
  for (const auto& [name, state] : clusters_) {
    for (const auto& [segment_name, segment] : state->segments()) {
      if (!segment.aliases.empty()) return true;
    }
  }
  return false;
}

std::optional<mesh::ServiceEntry> MeshStore::PlanLocked(
    const std::string& service_namespace, const std::string& service_name,
    const mesh::PlanOptions& options, mesh::Diagnostics& diagnostics,
    std::vector<mesh::ServiceEntry>* other_segments) const {
  std::vector<const mesh::ClusterState*> views;
  views.reserve(clusters_.size());
  for (const auto& [name, state] : clusters_) {
    // Carried endpoints stand in for a cluster's own (maybe partial) state.
    if (withheld_.count(name) || carried_.count(name)) continue;
    views.push_back(state.get());
  }
  auto entries =
      mesh::PlanServiceEntries(service_namespace, service_name, views, options, diagnostics);
  std::optional<mesh::ServiceEntry> planned;
  if (!entries.empty()) {
    // The target's own segment comes first, when it exports the service.
    std::string own_segment;
    if (auto target = clusters_.find(options.target_cluster); target != clusters_.end()) {
      own_segment = mesh::MembershipOf(*target->second, *target->second,
                                       options.control_plane_namespace, options.host_suffix)
                        .name;
    }
    auto first = entries.begin();
    if (first->segment == own_segment) {
      planned = std::move(*first);
      ++first;
    }
    if (other_segments) {
      other_segments->insert(other_segments->end(), std::make_move_iterator(first),
                             std::make_move_iterator(entries.end()));
    }
  }
  if (carried_.empty()) return planned;
  const std::string key = mesh::ServiceKey(service_namespace, service_name);
  std::vector<mesh::CarriedPart> parts;
  for (const auto& [cluster, services] : carried_) {
    if (withheld_.count(cluster)) continue;
    if (auto it = services.find(key); it != services.end()) parts.push_back({cluster, &it->second});
  }
  auto merged = mesh::MergeCarried(std::move(planned), service_namespace, service_name, parts,
                                   options, diagnostics);
  if (merged) {
    // Carried parts alone say nothing of the local namespaces.
    auto target = clusters_.find(options.target_cluster);
    merged->namespace_exists_locally =
        target != clusters_.end() && target->second->FindNamespace(service_namespace) != nullptr;
  }
  return merged;
}

std::vector<mesh::PeerGateway> MeshStore::PlanPeerGateways(const std::string& target_cluster,
                                                           const mesh::ShapeOptions& options,
                                                           mesh::Diagnostics& diagnostics) const {
  std::shared_lock lock(mutex_);
  std::vector<const mesh::ClusterState*> views;
  views.reserve(clusters_.size());
  std::string target_network;
  for (const auto& [name, state] : clusters_) {
    if (name == target_cluster) target_network = state->network();
    if (withheld_.count(name)) continue;
    views.push_back(state.get());
  }
  auto planned = mesh::PlanPeerGateways(views, target_cluster, options, diagnostics);
  if (carried_gateways_.empty() || !clusters_.count(target_cluster)) return planned;
  std::set<std::string> networks;
  for (const auto& gateway : planned)
    networks.insert(gateway.network);
  for (const auto& [cluster, gateways] : carried_gateways_) {
    if (!carried_.count(cluster) || withheld_.count(cluster)) continue;
    for (const auto& gateway : gateways) {
      if (gateway.network == target_network || !networks.insert(gateway.network).second) continue;
      planned.push_back(gateway);
    }
  }
  std::sort(planned.begin(), planned.end(),
            [](const mesh::PeerGateway& a, const mesh::PeerGateway& b) { return a.name < b.name; });
  return planned;
}

std::vector<std::string> MeshStore::ServiceKeys(const std::string& cluster) const {
  std::shared_lock lock(mutex_);
  std::set<std::string> keys;
  for (const auto& [name, state] : clusters_) {
    if (!cluster.empty() && name != cluster) continue;
    for (const auto& [key, service] : state->services())
      keys.insert(key);
  }
  for (const auto& [name, services] : carried_) {
    if (!cluster.empty() && name != cluster) continue;
    for (const auto& [key, service] : services)
      keys.insert(key);
  }
  return {keys.begin(), keys.end()};
}

}  // namespace globalsvc::controller
