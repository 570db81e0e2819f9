#pragma once

// MeshStore: the lean state of every connected cluster (one mesh::ClusterState
// each), shared by the watch threads that update it and the workers that plan
// from it. Readers plan under a shared lock; each update takes the write lock
// briefly.
//
// Two overrides decide what of a remote cluster the plan uses:
// - carried-over endpoints (a cluster that has not synced since the
//   controller started): the endpoints the local ServiceEntries already hold
//   for it stand in for its own state until it syncs;
// - withheld (unreachable longer than --remote-stale-timeout): neither its
//   state nor its carried endpoints are planned; the state is kept, so its
//   endpoints return as soon as it is no longer withheld.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "lib/mesh/carried_endpoints.h"
#include "lib/mesh/cluster_state.h"
#include "lib/mesh/istio_objects.h"
#include "lib/mesh/peer_gateways.h"
#include "lib/mesh/planner.h"
#include "lib/mesh/segments.h"

namespace globalsvc::controller {

class MeshStore {
 public:
  // Runs `update` on the cluster's state under the write lock, creating the
  // cluster (with `network`) if it is new.
  void Update(const std::string& cluster, const std::function<void(mesh::ClusterState&)>& update);
  // Reads the cluster's state under the shared lock; false if it is unknown.
  bool Read(const std::string& cluster,
            const std::function<void(const mesh::ClusterState&)>& read) const;
  // Forgets the cluster, its carried endpoints and whether it was withheld.
  void RemoveCluster(const std::string& cluster);
  [[nodiscard]] std::vector<std::string> ClusterNames() const;

  // The target segment's ServiceEntry of one key, carried-over endpoints
  // merged; the entries of the other segments that export the service to
  // the target (mesh::PlanServiceEntries) go to `other_segments` when given.
  [[nodiscard]] std::optional<mesh::ServiceEntry> Plan(
      const std::string& service_namespace, const std::string& service_name,
      const mesh::PlanOptions& options, mesh::Diagnostics& diagnostics,
      std::vector<mesh::ServiceEntry>* other_segments = nullptr) const;
  // The segment `cluster` belongs to as `options.target_cluster` sees it;
  // nullopt when either is unknown.
  [[nodiscard]] std::optional<mesh::SegmentMembership> Membership(
      const std::string& cluster, const mesh::PlanOptions& options) const;
  // True when a cluster holds a Segment with hostname aliases: a Service's
  // labels may then decide another service's aliases.
  [[nodiscard]] bool HasAliases() const;

  // The peer Gateways the target cluster needs: those of the clusters it
  // holds (withheld ones left out), then, for a network none of them has a
  // Gateway for, the carried-over one of a cluster whose endpoints are
  // carried.
  [[nodiscard]] std::vector<mesh::PeerGateway> PlanPeerGateways(
      const std::string& target_cluster, const mesh::ShapeOptions& options,
      mesh::Diagnostics& diagnostics) const;

  // Service keys ("<ns>/<name>") of one cluster, or of all clusters when
  // `cluster` is empty, carried-over keys included; sorted, without
  // duplicates.
  [[nodiscard]] std::vector<std::string> ServiceKeys(const std::string& cluster = {}) const;

  // Replaces the cluster's carried-over endpoints (empty: none).
  void SetCarried(const std::string& cluster, mesh::CarriedServices services);
  [[nodiscard]] bool HasCarried(const std::string& cluster) const;
  // The peer Gateways an earlier run wrote for the cluster: they keep its
  // carried endpoints reachable. Forgotten with its carried endpoints.
  void SetCarriedGateways(const std::string& cluster, std::vector<mesh::PeerGateway> gateways);
  void SetWithheld(const std::string& cluster, bool withheld);
  [[nodiscard]] bool IsWithheld(const std::string& cluster) const;

 private:
  // Plan() under the lock held by the caller; the other segments' entries
  // go to `other_segments` when given.
  std::optional<mesh::ServiceEntry> PlanLocked(
      const std::string& service_namespace, const std::string& service_name,
      const mesh::PlanOptions& options, mesh::Diagnostics& diagnostics,
      std::vector<mesh::ServiceEntry>* other_segments) const;

  mutable std::shared_mutex mutex_;
  std::map<std::string, mesh::CarriedServices> carried_;
  std::map<std::string, std::vector<mesh::PeerGateway>> carried_gateways_;
  std::set<std::string> withheld_;
  // unique_ptr: states keep their address while the map changes.
  std::map<std::string, std::unique_ptr<mesh::ClusterState>> clusters_;
};

}  // namespace globalsvc::controller
