#include "controller/legacy_status_cleanup.h"

#include <spdlog/spdlog.h>

#include "controller/api_group.h"
#include "controller/owned_objects.h"
#include "lib/base/json_fields.h"
#include "lib/observability/logging.h"

namespace globalsvc::controller {

LegacyStatusCleanup::LegacyStatusCleanup(kube::ObjectApi& client, std::string namespace_name,
                                         ControllerMetrics& metrics)
    : client_(client),
      writer_(client),
      namespace_(std::move(namespace_name)),
      metrics_(metrics),
      log_(obs::ComponentLogger("status")) {}

Status LegacyStatusCleanup::CleanUp(const std::string& resource, const std::string& kind) {
  const kube::ResourceType type{kLegacyApiGroup, kApiGroupVersion, resource, true};
  kube::ListOptions ours;
  ours.label_selector = ManagedBySelector();
  auto listed = client_.List(type, namespace_, ours);
  // Not served: the old CRDs were never installed here, or are gone.
  if (!listed.ok() && listed.error().code == ErrorCode::kNotFound) return Ok{};
  if (!listed.ok()) return listed.error();
  for (const auto& item : listed->items) {
    // The selector chose them; the label is checked again so that a server
    // that ignored the selector cannot make us delete a foreign object.
    if (!IsManagedByGlobalsvc(item)) continue;
    const std::string name = StringAt(item, "metadata", "name");
    if (name.empty()) continue;
    const auto deleted = writer_.Delete(type, namespace_, name, StringAt(item, "metadata", "uid"));
    // kConflict: another object of that name now, not ours to delete.
    if (!deleted.ok() && deleted.error().code != ErrorCode::kConflict) return deleted.error();
    if (deleted.ok() && *deleted == Deleted::kNow) {
      metrics_.writes.Inc({"legacy-status-delete"});
      log_.Info("deleted an object of the old API group",
                {{"kind", kind}, {"name", namespace_ + "/" + name}, {"group", kLegacyApiGroup}});
    }
  }
  return Ok{};
}

Status LegacyStatusCleanup::Run() {
  if (done_) return Ok{};
  for (const auto& [resource, kind] :
       {std::pair<std::string, std::string>{"remoteclusters", "RemoteCluster"},
        {"globalservices", "GlobalService"}}) {
    const Status cleaned = CleanUp(resource, kind);
    if (cleaned.ok()) continue;
    if (!cleaned.error().retryable()) {
      // Forbidden (an older chart's Role, say): nothing a later pass changes.
      log_.Warn("objects of the old API group not cleaned up; delete them by hand",
                {{"group", kLegacyApiGroup},
                 {"command", "kubectl delete " + resource + "." + kLegacyApiGroup + " -n " +
                                 namespace_ + " -l " + ManagedBySelector()},
                 {"error", cleaned.error().message}});
      done_ = true;
    }
    return cleaned;
  }
  done_ = true;
  return Ok{};
}

}  // namespace globalsvc::controller
