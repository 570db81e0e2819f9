#pragma once

// Remote clusters that have not synced when a leader starts writing (their
// API server is down during a controller restart) keep what the local
// cluster's objects hold for them: the owned ServiceEntries (and, in the
// WorkloadEntry shape, their WorkloadEntries and the peer Gateways) are
// listed once, the endpoints labelled with each such cluster taken
// (mesh::CarryOver) and set as that cluster's carried endpoints in the
// MeshStore, which plans them in its place until it syncs. Without this, a
// restart during a remote outage would remove that cluster's capacity.

#include <set>
#include <string>

#include "controller/mesh_store.h"
#include "lib/kube/object_api.h"

namespace globalsvc::controller {

struct CarryOverOptions {
  // The WorkloadEntry shape: objects in the Services' namespaces, endpoints
  // in WorkloadEntries; else inline ServiceEntries in the control-plane
  // namespace.
  bool workload_entries = false;
  std::string control_plane_namespace;
};

// Sets the carried endpoints of every cluster of `unsynced` that the local
// objects hold endpoints of. A failed list is logged: those clusters start
// without endpoints, as they would without this.
void CarryOverUnsynced(kube::ObjectApi& local, const CarryOverOptions& options,
                       const std::set<std::string>& unsynced, MeshStore& store);

}  // namespace globalsvc::controller
