#include "controller/object_set_writer.h"

#include <spdlog/spdlog.h>

#include <set>

#include "controller/owned_objects.h"
#include "lib/mesh/istio_objects.h"
#include "lib/observability/logging.h"

namespace globalsvc::controller {
namespace {

const kube::ResourceType* ResourceOf(const std::string& kind) {
  if (kind == "ServiceEntry") return &kube::resources::ServiceEntries();
  if (kind == "WorkloadEntry") return &kube::resources::WorkloadEntries();
  if (kind == "Gateway") return &kube::resources::Gateways();
  return nullptr;
}

std::string KindOf(const nlohmann::json& object) {
  const auto kind = object.find("kind");
  return kind != object.end() && kind->is_string() ? kind->get<std::string>() : std::string();
}

}  // namespace

bool ShapeObservers::synced() const {
  return service_entries && service_entries->synced() && workload_entries &&
         workload_entries->synced() && gateways && gateways->synced();
}

ObjectSetWriter::ObjectSetWriter(kube::ObjectApi& local, ShapeObservers observers,
                                 ControllerMetrics& metrics, std::function<bool()> may_write)
    : writer_(local, std::move(may_write)),
      observers_(observers),
      metrics_(metrics),
      log_(obs::ComponentLogger("object-writer")) {}

OwnedObjectObserver* ObjectSetWriter::ObserverOf(const std::string& kind) const {
  if (kind == "ServiceEntry") return observers_.service_entries;
  if (kind == "WorkloadEntry") return observers_.workload_entries;
  if (kind == "Gateway") return observers_.gateways;
  return nullptr;
}

namespace {

void KeepFirstError(ObjectSetResult& result, Error error) {
  if (!result.error) result.error = std::move(error);
}

}  // namespace

ObjectSetResult ObjectSetWriter::Write(const std::string& owner_key,
                                       const std::vector<nlohmann::json>& desired) {
  ObjectSetResult result;
  const ObjectKeys wanted = ApplyDesired(owner_key, desired, result);
  DeleteUnwanted(owner_key, wanted, result);
  return result;
}

bool ObjectSetWriter::MayWrite(ObjectSetResult& result) const {
  if (writer_.may_write()) return true;
  KeepFirstError(result, MakeError(ErrorCode::kUnavailable, "not the leader: writes are paused"));
  return false;
}

ObjectSetWriter::ObjectKeys ObjectSetWriter::ApplyDesired(
    const std::string& owner_key, const std::vector<nlohmann::json>& desired,
    ObjectSetResult& result) {
  ObjectKeys wanted;
  for (const auto& object : desired) {
    const std::string kind = KindOf(object);
    const std::string ns = StringAt(object, "metadata", "namespace");
    const std::string name = StringAt(object, "metadata", "name");
    const kube::ResourceType* type = ResourceOf(kind);
    OwnedObjectObserver* observer = ObserverOf(kind);
    if (!type || !observer || name.empty()) {
      KeepFirstError(result,
                     MakeError(ErrorCode::kInternal, "cannot write a " + kind + " object named '" +
                                                         name + "' of " + owner_key));
      continue;
    }
    wanted.emplace(kind, ns + "/" + name);
    const auto observed = observer->Get(ns, name);
    if (observed && !observed->managed) {
      result.conflicts.push_back(kind + " " + ns + "/" + name);
      continue;
    }
    if (observed && observed->content_hash == mesh::OwnedContentHash(object)) continue;
    if (!MayWrite(result)) continue;
    auto written = writer_.Apply(*type, ns, object, observed ? Observed::kOurs : Observed::kAbsent);
    if (!written.ok()) {
      log_.Error("apply failed", {{"kind", kind},
                                  {"name", ns + "/" + name},
                                  {"code", ErrorCodeName(written.error().code)},
                                  {"retryable", written.error().retryable()},
                                  {"error", written.error().message}});
      KeepFirstError(result, written.error());
      continue;
    }
    metrics_.writes.Inc({"apply"});
    observer->RecordWritten(*written);
    ++result.applied;
    log_.Info("applied", {{"kind", kind}, {"name", ns + "/" + name}, {"owner", owner_key}});
  }
  return wanted;
}

void ObjectSetWriter::DeleteUnwanted(const std::string& owner_key, const ObjectKeys& wanted,
                                     ObjectSetResult& result) {
  for (const auto& [kind, observer] :
       {std::pair<std::string, OwnedObjectObserver*>{"ServiceEntry", observers_.service_entries},
        {"WorkloadEntry", observers_.workload_entries},
        {"Gateway", observers_.gateways}}) {
    if (!observer) continue;
    for (const auto& owned : observer->OwnedBy(owner_key)) {
      if (wanted.count({kind, owned.namespace_name + "/" + owned.name})) continue;
      if (!MayWrite(result)) continue;
      auto deleted = writer_.Delete(*ResourceOf(kind), owned.namespace_name, owned.name, owned.uid);
      if (!deleted.ok()) {
        log_.Error("delete failed", {{"kind", kind},
                                     {"name", owned.namespace_name + "/" + owned.name},
                                     {"code", ErrorCodeName(deleted.error().code)},
                                     {"error", deleted.error().message}});
        KeepFirstError(result, deleted.error());
        continue;
      }
      metrics_.writes.Inc({"delete"});
      observer->RecordDeleted(owned.namespace_name, owned.name);
      ++result.deleted;
      log_.Info("deleted", {{"kind", kind},
                            {"name", owned.namespace_name + "/" + owned.name},
                            {"owner", owner_key}});
    }
  }
}

}  // namespace globalsvc::controller
