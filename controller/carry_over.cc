#include "controller/carry_over.h"

#include <spdlog/spdlog.h>

#include <map>
#include <vector>

#include "controller/owned_objects.h"
#include "lib/mesh/carried_endpoints.h"
#include "lib/mesh/istio_objects.h"
#include "lib/mesh/object_read_back.h"
#include "lib/mesh/peer_gateways.h"
#include "lib/observability/logging.h"

namespace globalsvc::controller {
namespace {

kube::ListOptions OwnedOnly() {
  kube::ListOptions owned;
  owned.label_selector = ManagedBySelector();
  return owned;
}

// What the local objects hold, as ServiceEntries with their endpoints; an
// error when they cannot be listed.
Result<std::vector<mesh::ServiceEntry>> ExistingEntries(kube::ObjectApi& local,
                                                        const CarryOverOptions& options) {
  const kube::ListOptions owned = OwnedOnly();
  // The WorkloadEntry shape keeps its objects in the Services' namespaces.
  auto listed = local.List(kube::resources::ServiceEntries(),
                           options.workload_entries ? "" : options.control_plane_namespace, owned);
  if (!listed.ok()) return listed.error();
  std::vector<mesh::ServiceEntry> entries;
  if (options.workload_entries) {
    auto workloads = local.List(kube::resources::WorkloadEntries(), "", owned);
    if (!workloads.ok()) return workloads.error();
    return mesh::EntriesFromObjects(listed->items, workloads->items);
  }
  for (const auto& item : listed->items) {
    if (auto entry = mesh::ServiceEntryFromJson(item)) entries.push_back(std::move(*entry));
  }
  return entries;
}

}  // namespace

void CarryOverUnsynced(kube::ObjectApi& local, const CarryOverOptions& options,
                       const std::set<std::string>& unsynced, MeshStore& store) {
  if (unsynced.empty()) return;
  auto log = obs::ComponentLogger("controller");
  auto entries = ExistingEntries(local, options);
  if (!entries.ok()) {
    log.Warn(
        "cannot read the existing ServiceEntries: unsynced remote clusters start without "
        "endpoints",
        {{"error", entries.error().message}});
    return;
  }
  auto carried = mesh::CarryOver(*entries, unsynced);
  // Their peer Gateways too: without one, their carried endpoints behind a
  // gateway are unroutable until they sync.
  std::map<std::string, std::vector<mesh::PeerGateway>> gateways;
  if (options.workload_entries) {
    auto listed =
        local.List(kube::resources::Gateways(), options.control_plane_namespace, OwnedOnly());
    if (listed.ok()) {
      for (const auto& item : listed->items) {
        if (auto gateway = mesh::PeerGatewayFromJson(item)) {
          gateways[gateway->cluster].push_back(std::move(*gateway));
        }
      }
    } else {
      log.Warn(
          "cannot read the existing peer Gateways: unsynced remote clusters start without them",
          {{"error", listed.error().message}});
    }
  }
  for (const auto& cluster : unsynced) {
    auto it = carried.find(cluster);
    if (it == carried.end()) {
      log.Warn("remote cluster not synced and no endpoints of it in the existing ServiceEntries",
               {{"cluster", cluster}});
      continue;
    }
    std::size_t endpoints = 0;
    for (const auto& [key, service] : it->second)
      endpoints += service.endpoints.size();
    log.Warn(
        "remote cluster not synced: the endpoints the existing ServiceEntries hold for it are "
        "kept until it syncs",
        {{"cluster", cluster}, {"services", it->second.size()}, {"endpoints", endpoints}});
    store.SetCarried(cluster, std::move(it->second));
    if (auto found = gateways.find(cluster); found != gateways.end()) {
      store.SetCarriedGateways(cluster, std::move(found->second));
    }
  }
}

}  // namespace globalsvc::controller
