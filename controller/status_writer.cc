#include "controller/status_writer.h"

#include <spdlog/spdlog.h>

#include "controller/api_group.h"
#include "controller/owned_objects.h"
#include "lib/base/json_fields.h"
#include "lib/base/utf8.h"
#include "lib/mesh/model.h"
#include "lib/observability/logging.h"

namespace globalsvc::controller {

const kube::ResourceType& RemoteClusterResource() {
  static const kube::ResourceType type{kApiGroup, kApiGroupVersion, "remoteclusters", true};
  return type;
}

StatusWriter::StatusWriter(kube::ObjectApi& client, std::string namespace_name,
                           ControllerMetrics& metrics, kube::Clock& clock)
    : client_(client),
      writer_(client),
      namespace_(std::move(namespace_name)),
      metrics_(metrics),
      clock_(clock),
      log_(obs::ComponentLogger("status")) {}

void StatusWriter::Record(const nlohmann::json& object) {
  const std::string name = StringAt(object, "metadata", "name");
  if (name.empty()) return;
  // Compared as text with what Write() would send: both are dumps of the
  // same fields with keys in order.
  const auto status = object.find("status");
  Stored stored{StringAt(object, "metadata", "uid"),
                status != object.end() && status->is_object() ? DumpJson(*status) : "",
                IsManagedByGlobalsvc(object)};
  if (!stored.managed && relist_at_ == kube::Clock::TimePoint{}) {
    relist_at_ = clock_.Now() + kForeignRecheck;
  }
  stored_[name] = std::move(stored);
}

Status StatusWriter::ReadExisting() {
  auto existing = client_.List(RemoteClusterResource(), namespace_);
  if (!existing.ok()) return existing.error();
  stored_.clear();
  relist_at_ = {};
  for (const auto& item : existing->items)
    Record(item);
  listed_existing_ = true;
  return Ok{};
}

void StatusWriter::WarnOnce(const std::string& what, const Error& error) {
  if (warned_) return;
  log_.Warn(what + " (is crds/ installed and allowed?)", {{"error", error.message}});
  warned_ = true;
}

void StatusWriter::Publish(const std::vector<ClusterStatusReport>& reports) {
  if (listed_existing_ && relist_at_ != kube::Clock::TimePoint{} && clock_.Now() >= relist_at_) {
    listed_existing_ = false;  // a foreign object may have gone since
  }
  if (!listed_existing_) {
    if (const Status listed = ReadExisting(); !listed.ok()) {
      WarnOnce("RemoteCluster objects not listed", listed.error());
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

StatusWriter::WriteOutcome StatusWriter::Create(const std::string& cluster) {
  const nlohmann::json object = {
      {"apiVersion", kApiVersion},
      {"kind", "RemoteCluster"},
      {"metadata",
       {{"name", cluster},
        {"namespace", namespace_},
        {"labels", {{mesh::kManagedByLabel, mesh::kManagedByValue}}}}},
      {"spec", nlohmann::json::object()},
  };
  auto created = writer_.Create(RemoteClusterResource(), namespace_, object);
  if (created.ok()) {
    metrics_.writes.Inc({"cluster-status"});
    Record(*created);
    return WriteOutcome::kWritten;
  }
  const ErrorCode code = created.error().code;
  if (code == ErrorCode::kNotFound || code == ErrorCode::kForbidden) {
    WarnOnce("RemoteCluster status not written", created.error());
    return WriteOutcome::kStopAll;
  }
  if (code == ErrorCode::kConflict) {
    // Made since the list, by someone: look at whose it is.
    if (auto existing = client_.Get(RemoteClusterResource(), namespace_, cluster); existing.ok()) {
      Record(*existing);
      return WriteOutcome::kSkipped;
    }
  }
  log_.Warn("RemoteCluster not created",
            {{"cluster", cluster}, {"error", created.error().message}});
  return WriteOutcome::kFailed;
}

namespace {

nlohmann::json StatusOf(const ClusterStatusReport& report) {
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
      {"lastError", ShortUtf8(report.last_error, StatusWriter::kMaxLastErrorBytes)},
  };
  if (!report.secret.empty()) status["secret"] = report.secret;
  if (!report.segment.empty()) status["segment"] = report.segment;
  if (!report.segment_refused.empty()) {
    status["segmentRefused"] = ShortUtf8(report.segment_refused, StatusWriter::kMaxLastErrorBytes);
  }
  return status;
}

}  // namespace

StatusWriter::WriteOutcome StatusWriter::Write(const ClusterStatusReport& report) {
  nlohmann::json status = StatusOf(report);
  const std::string text = DumpJson(status);

  auto it = stored_.find(report.cluster);
  if (it == stored_.end()) {
    // kSkipped: the name was taken meanwhile, and is now recorded below.
    const WriteOutcome created = Create(report.cluster);
    if (created == WriteOutcome::kFailed || created == WriteOutcome::kStopAll) return created;
    it = stored_.find(report.cluster);
    if (it == stored_.end()) return WriteOutcome::kFailed;
  }
  if (!it->second.managed) {
    if (foreign_reported_.insert(report.cluster).second) {
      log_.Warn("object exists and is not managed by globalsvc; its status is not written",
                {{"kind", "RemoteCluster"}, {"name", namespace_ + "/" + report.cluster}});
    }
    return WriteOutcome::kSkipped;
  }
  if (it->second.status == text) return WriteOutcome::kWritten;

  const nlohmann::json object = {
      {"apiVersion", kApiVersion},
      {"kind", "RemoteCluster"},
      {"metadata", {{"name", report.cluster}, {"namespace", namespace_}}},
      {"status", std::move(status)},
  };
  auto written = writer_.ApplyStatus(RemoteClusterResource(), namespace_, object, Observed::kOurs);
  if (!written.ok()) {
    log_.Warn("RemoteCluster status not written",
              {{"cluster", report.cluster}, {"error", written.error().message}});
    // Gone meanwhile, or replaced: read the namespace again before writing.
    listed_existing_ = false;
    return WriteOutcome::kFailed;
  }
  metrics_.writes.Inc({"cluster-status"});
  it->second.uid = StringAt(*written, "metadata", "uid");
  it->second.status = text;
  warned_ = false;
  return WriteOutcome::kWritten;
}

void StatusWriter::DeleteGone(const std::set<std::string>& present) {
  // stored_ holds what this run wrote, what an earlier run left, and
  // foreign objects, which are never deleted.
  std::vector<std::pair<std::string, std::string>> gone;  // cluster, uid
  for (const auto& [cluster, stored] : stored_) {
    if (stored.managed && !present.count(cluster)) gone.emplace_back(cluster, stored.uid);
  }
  for (const auto& [cluster, uid] : gone) {
    auto deleted = writer_.Delete(RemoteClusterResource(), namespace_, cluster, uid);
    if (deleted.ok() && *deleted == Deleted::kNow) metrics_.writes.Inc({"cluster-status-delete"});
    if (deleted.ok()) {
      stored_.erase(cluster);
    } else if (deleted.error().code == ErrorCode::kConflict) {
      listed_existing_ = false;  // another object of that name now: list again
    }
  }
}

}  // namespace globalsvc::controller
