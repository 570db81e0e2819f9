#include <algorithm>

#include "controller/projection_sinks.h"
#include "lib/kube/reflector_sink.h"

namespace globalsvc::controller {

void ProjectionSink::BeginReplace() {
  listed_.clear();
}

void ProjectionSink::ReplaceItem(nlohmann::json&& object) {
  std::string key = kube::ObjectKey(object);
  std::vector<std::string> keys;
  Apply(object, key, keys);
  listed_.insert(std::move(key));
  Emit(std::move(keys));
}

void ProjectionSink::EndReplace() {
  // Whatever the list no longer holds was deleted while we were not watching.
  std::vector<std::string> keys;
  for (const std::string& stored : StoredKeys()) {
    if (!listed_.count(stored)) Remove(stored, keys);
  }
  listed_.clear();
  Emit(std::move(keys));
  synced_ = true;
}

void ProjectionSink::AbortReplace() {
  listed_.clear();
}

void ProjectionSink::ApplyEvent(kube::WatchEventType type, nlohmann::json&& object) {
  std::vector<std::string> keys;
  const std::string key = kube::ObjectKey(object);
  if (type == kube::WatchEventType::kDeleted) {
    Remove(key, keys);
  } else if (type == kube::WatchEventType::kAdded || type == kube::WatchEventType::kModified) {
    Apply(object, key, keys);
  }
  Emit(std::move(keys));
}

void ProjectionSink::Report(const mesh::Diagnostics& diagnostics) const {
  if (!diagnostics.empty() && context_.on_diagnostics) context_.on_diagnostics(diagnostics);
}

bool ProjectionSink::Admitted(const std::string& key) const {
  return context_.namespaces.admits_all() ||
         context_.namespaces.Admits(kube::SplitObjectKey(key).namespace_name);
}

bool ProjectionSink::MayAdd(const mesh::ClusterState& state) {
  if (context_.max_objects == 0 || state.object_count() < context_.max_objects) return true;
  ++refused_;
  return false;
}

void ProjectionSink::ReportRefused() {
  if (refused_ == 0) return;
  // The first refusal, then one report per 1000: a hostile remote must not
  // flood the log either.
  const bool report =
      refused_reported_ == 0 || refused_reported_ / 1000 != (refused_reported_ + refused_) / 1000;
  refused_reported_ += refused_;
  refused_ = 0;
  if (!report) return;
  Report({{mesh::Severity::kError,
           mesh::DiagnosticCode::kObjectQuotaExceeded,
           {context_.cluster, "", "", ""},
           "cluster " + context_.cluster + " holds " + std::to_string(context_.max_objects) +
               " objects (--max-remote-objects); " + std::to_string(refused_reported_) +
               " new ones refused so far"}});
}

void ProjectionSink::RequestRelist() const {
  if (context_.on_relist) context_.on_relist();
}

void ProjectionSink::Emit(std::vector<std::string> keys) const {
  if (keys.empty() || !context_.on_keys) return;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  context_.on_keys(std::move(keys));
}

}  // namespace globalsvc::controller
