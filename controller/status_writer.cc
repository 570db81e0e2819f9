#include "controller/status_writer.h"

#include <spdlog/spdlog.h>

#include "controller/owned_objects.h"
#include "lib/base/json_fields.h"
#include "lib/base/utf8.h"
#include "lib/mesh/model.h"
#include "lib/observability/logging.h"

namespace globalsvc::controller {

const kube::ResourceType& RemoteClusterResource() {
  static const kube::ResourceType type{"globalsvc.solo.io", "v1alpha1", "remoteclusters", true};
  return type;
}

StatusWriter::StatusWriter(kube::KubeClient& client, std::string namespace_name,
                           ControllerMetrics& metrics)
    : client_(client),
      namespace_(std::move(namespace_name)),
      metrics_(metrics),
      log_(obs::ComponentLogger("status")) {}

Status StatusWriter::ReadExisting() {
  kube::ListOptions owned;
  owned.label_selector = ManagedBySelector();
  auto existing = client_.List(RemoteClusterResource(), namespace_, owned);
  if (!existing.ok()) return existing.error();
  for (const auto& item : existing->items) {
    const std::string name = StringAt(item, "metadata", "name");
    if (name.empty()) continue;
    // Compared as text with what Write() would send: both are dumps of the
    // same fields with keys in order.
    const auto status = item.find("status");
    published_[name] = status != item.end() && status->is_object() ? DumpJson(*status) : "";
  }
  listed_existing_ = true;
  return Ok{};
}

void StatusWriter::Publish(const std::vector<ClusterStatusReport>& reports) {
  if (!listed_existing_) {
    const Status listed = ReadExisting();
    if (!listed.ok()) {
      if (!warned_) {
        log_->warn("RemoteCluster objects not listed (is crds/ installed and allowed?) error={}",
                   listed.error().message);
        warned_ = true;
      }
      return;
    }
  }
  std::set<std::string> present;
  for (const auto& report : reports) {
    present.insert(report.cluster);
    // One cluster's failed write (an invalid name, say) must not hide the
    // others; a missing CRD or permission fails them all alike: try later.
    if (Write(report) == WriteOutcome::kStopAll) return;
  }
  DeleteGone(present);
}

StatusWriter::WriteOutcome StatusWriter::Write(const ClusterStatusReport& report) {
  nlohmann::json status = {
      {"role", report.local ? "local" : "remote"},
      {"connected", report.connected},
      {"synced", report.synced},
      {"stale", report.stale},
      {"endpointsRemoved", report.endpoints_removed},
      {"network", report.network},
      {"services", report.services},
      {"endpoints", report.endpoints},
      // Error texts may quote a remote's answer: valid UTF-8, bounded.
      {"lastError", ShortUtf8(report.last_error, kMaxLastErrorBytes)},
  };
  if (!report.secret.empty()) status["secret"] = report.secret;
  const std::string text = DumpJson(status);
  auto it = published_.find(report.cluster);
  if (it != published_.end() && it->second == text) return WriteOutcome::kWritten;

  kube::ApplyOptions apply;
  apply.field_manager = "globalsvc";
  apply.force = true;
  nlohmann::json object = {
      {"apiVersion", "globalsvc.solo.io/v1alpha1"},
      {"kind", "RemoteCluster"},
      {"metadata",
       {{"name", report.cluster},
        {"namespace", namespace_},
        {"labels", {{mesh::kManagedByLabel, mesh::kManagedByValue}}}}},
      {"spec", nlohmann::json::object()},
  };
  if (it == published_.end()) {
    auto created = client_.Apply(RemoteClusterResource(), namespace_, object, apply);
    if (!created.ok()) {
      const ErrorCode code = created.error().code;
      if (code == ErrorCode::kNotFound || code == ErrorCode::kForbidden) {
        if (!warned_) {
          log_->warn("RemoteCluster status not written (is crds/ installed and allowed?) error={}",
                     created.error().message);
          warned_ = true;
        }
        return WriteOutcome::kStopAll;
      }
      log_->warn("RemoteCluster not created cluster={} error={}", report.cluster,
                 created.error().message);
      return WriteOutcome::kFailed;
    }
    metrics_.writes.Inc({"cluster-status"});
  }
  object.erase("spec");
  object["status"] = std::move(status);
  apply.subresource = "status";
  auto written = client_.Apply(RemoteClusterResource(), namespace_, object, apply);
  if (!written.ok()) {
    log_->warn("RemoteCluster status not written cluster={} error={}", report.cluster,
               written.error().message);
    published_.erase(report.cluster);
    return WriteOutcome::kFailed;
  }
  metrics_.writes.Inc({"cluster-status"});
  published_[report.cluster] = text;
  warned_ = false;
  return WriteOutcome::kWritten;
}

void StatusWriter::DeleteGone(const std::set<std::string>& present) {
  // published_ holds what this run wrote and what an earlier run left.
  std::vector<std::string> gone;
  for (const auto& [cluster, text] : published_) {
    if (!present.count(cluster)) gone.push_back(cluster);
  }
  for (const auto& cluster : gone) {
    auto deleted = client_.Delete(RemoteClusterResource(), namespace_, cluster);
    if (deleted.ok()) metrics_.writes.Inc({"cluster-status-delete"});
    if (deleted.ok() || deleted.error().code == ErrorCode::kNotFound) published_.erase(cluster);
  }
}

}  // namespace globalsvc::controller
