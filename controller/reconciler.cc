#include "controller/reconciler.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "controller/service_status.h"
#include "controller/service_status_writer.h"
#include "lib/kube/reflector_sink.h"
#include "lib/mesh/peer_gateways.h"
#include "lib/observability/logging.h"

namespace globalsvc::controller {

const char* ReconcileOutcomeName(ReconcileOutcome outcome) {
  switch (outcome) {
    case ReconcileOutcome::kUnchanged:
      return "unchanged";
    case ReconcileOutcome::kApplied:
      return "applied";
    case ReconcileOutcome::kDeleted:
      return "deleted";
    case ReconcileOutcome::kConflict:
      return "conflict";
    case ReconcileOutcome::kError:
      return "error";
  }
  return "unknown";
}

namespace {

// An error outranks a conflict, which outranks what was written.
ReconcileResult OutcomeOf(const ObjectSetResult& written) {
  if (written.error) return {ReconcileOutcome::kError, written.error};
  if (!written.conflicts.empty()) return {ReconcileOutcome::kConflict, std::nullopt};
  if (written.applied > 0) return {ReconcileOutcome::kApplied, std::nullopt};
  if (written.deleted > 0) return {ReconcileOutcome::kDeleted, std::nullopt};
  return {ReconcileOutcome::kUnchanged, std::nullopt};
}

}  // namespace

Reconciler::Reconciler(MeshStore& store, ServiceEntryObserver& observed, kube::ObjectApi& local,
                       mesh::PlanOptions options, ControllerMetrics& metrics, EventSink* events,
                       std::function<bool()> may_write, kube::Clock& clock)
    : store_(store),
      observed_(observed),
      options_(std::move(options)),
      metrics_(metrics),
      events_(events),
      may_write_(std::move(may_write)),
      writer_(local, may_write_),
      clock_(clock),
      log_(obs::ComponentLogger("reconciler")) {}

ReconcileResult Reconciler::Reconcile(const std::string& key) {
  const auto started = clock_.Now();
  ReconcileResult result;
  if (shape_writer_ && key == kPeerGatewaysKey) {
    result = ReconcilePeerGateways();
  } else {
    result = ReconcileService(key);
  }
  metrics_.reconciles.Inc({ReconcileOutcomeName(result.outcome)});
  metrics_.reconcile_seconds.Observe(std::chrono::duration<double>(clock_.Now() - started).count());
  return result;
}

ReconcileResult Reconciler::ReconcileService(const std::string& key) {
  const auto [key_namespace, key_name] = kube::SplitObjectKey(key);
  const std::string ns(key_namespace);
  const std::string name(key_name);

  mesh::Diagnostics diagnostics;
  // Other segments' entries exist only in the WorkloadEntry shape: the
  // inline shape keeps one ServiceEntry per key.
  std::vector<mesh::ServiceEntry> other_segments;
  auto desired =
      store_.Plan(ns, name, options_, diagnostics, shape_writer_ ? &other_segments : nullptr);
  // The inline shape knows its ServiceEntries by name, one per key: the
  // cluster's own segment's entry keeps the default name (its host is the
  // segment's).
  if (!shape_writer_ && desired) desired->name = mesh::ServiceEntryName(ns, name);
  ReportChangedDiagnostics(key, ns, name, diagnostics);

  const ReconcileResult result = shape_writer_ ? WriteShape(key, ns, name, desired, other_segments)
                                               : WriteInline(ns, name, desired);
  if (result.outcome != ReconcileOutcome::kError && result.outcome != ReconcileOutcome::kConflict) {
    std::vector<const mesh::ServiceEntry*> counted;
    if (desired) counted.push_back(&*desired);
    for (const auto& entry : other_segments)
      counted.push_back(&entry);
    CountEndpoints(key, counted);
  }
  PublishStatus(key, desired, diagnostics, result);
  return result;
}

void Reconciler::ReportChangedDiagnostics(const std::string& key, const std::string& ns,
                                          const std::string& name,
                                          const mesh::Diagnostics& diagnostics) {
  // Report a key's problems when they change, not on every reconcile.
  std::string digest;
  for (const auto& d : diagnostics)
    digest += mesh::FormatDiagnostic(d) + "\n";
  {
    std::lock_guard lock(counts_mutex_);
    auto& last = last_diagnostics_[key];
    const bool changed = last != digest;
    last = digest;
    if (digest.empty()) last_diagnostics_.erase(key);
    if (!changed || diagnostics.empty()) return;
  }
  for (const auto& d : diagnostics) {
    metrics_.diagnostics.Inc({std::string(mesh::DiagnosticCodeName(d.code))});
    if (d.code == mesh::DiagnosticCode::kPortConflict ||
        d.code == mesh::DiagnosticCode::kPortNameConflict) {
      metrics_.conflicts.Inc({"port"});
    }
    log_.Warn("input problem", LogFields{{"key", key}}.AddAll(mesh::DiagnosticLogFields(d)));
  }
  if (!events_) return;
  // Only objects of this cluster can carry an Event here. Problems of the
  // generated ServiceEntry itself (endpoints over the cap) are told on the
  // Service it is generated for, where its owner looks.
  for (const auto& d : diagnostics) {
    if (d.object.cluster != options_.target_cluster) continue;
    if (d.object.kind == "Service") {
      events_->Warning({"v1", "Service", d.object.namespace_name, d.object.name},
                       std::string(mesh::DiagnosticCodeName(d.code)), d.message);
    } else if (d.object.kind == "ServiceEntry") {
      events_->Warning({"v1", "Service", ns, name}, std::string(mesh::DiagnosticCodeName(d.code)),
                       d.message);
    }
  }
}

ReconcileResult Reconciler::WriteInline(const std::string& ns, const std::string& name,
                                        const std::optional<mesh::ServiceEntry>& desired) {
  const std::string entry_name = mesh::ServiceEntryName(ns, name);
  const auto observed = observed_.Get(entry_name);
  if (!desired) {
    if (observed && observed->managed) return Delete(*observed);
    return {};
  }
  if (observed && !observed->managed) {
    const EventTarget service{"v1", "Service", ns, name};
    ReportConflict("ServiceEntry " + options_.control_plane_namespace + "/" + entry_name, &service,
                   "this service is not exported here");
    return {ReconcileOutcome::kConflict, {}};
  }
  // One JSON: hashed, and sent when the hash differs.
  const nlohmann::json body = mesh::ToJson(*desired);
  const std::string hash = mesh::ContentHash(body);
  if (observed && observed->content_hash == hash) return {ReconcileOutcome::kUnchanged, {}};
  return Apply(*desired, body, hash, observed ? Observed::kOurs : Observed::kAbsent);
}

ReconcileResult Reconciler::Apply(const mesh::ServiceEntry& desired, const nlohmann::json& body,
                                  const std::string& hash, Observed observed) {
  auto written =
      writer_.Apply(kube::resources::ServiceEntries(), desired.namespace_name, body, observed);
  if (!written.ok()) {
    log_.Error("apply failed", {{"kind", "ServiceEntry"},
                                {"name", desired.namespace_name + "/" + desired.name},
                                {"code", ErrorCodeName(written.error().code)},
                                {"retryable", written.error().retryable()},
                                {"error", written.error().message}});
    return {ReconcileOutcome::kError, written.error()};
  }
  metrics_.writes.Inc({"apply"});
  observed_.RecordWritten(*written);
  log_.Info("applied", {{"kind", "ServiceEntry"},
                        {"name", desired.namespace_name + "/" + desired.name},
                        {"hash", hash},
                        {"endpoints", desired.endpoints.size()}});
  return {ReconcileOutcome::kApplied, std::nullopt};
}

ReconcileResult Reconciler::Delete(const ObservedEntry& observed) {
  auto status = writer_.Delete(kube::resources::ServiceEntries(), options_.control_plane_namespace,
                               observed.name, observed.uid);
  if (!status.ok()) {
    log_.Error("delete failed", {{"kind", "ServiceEntry"},
                                 {"name", options_.control_plane_namespace + "/" + observed.name},
                                 {"code", ErrorCodeName(status.error().code)},
                                 {"error", status.error().message}});
    return {ReconcileOutcome::kError, status.error()};
  }
  metrics_.writes.Inc({"delete"});
  observed_.RecordDeleted(observed.name);
  log_.Info("deleted", {{"kind", "ServiceEntry"},
                        {"name", options_.control_plane_namespace + "/" + observed.name},
                        {"reason", "no-global-service"}});
  return {ReconcileOutcome::kDeleted, std::nullopt};
}

ReconcileResult Reconciler::WriteShape(const std::string& key, const std::string& ns,
                                       const std::string& name,
                                       const std::optional<mesh::ServiceEntry>& desired,
                                       const std::vector<mesh::ServiceEntry>& other_segments) {
  std::vector<nlohmann::json> objects;
  auto render = [&](const mesh::ServiceEntry& entry) {
    auto rendered = mesh::RenderServiceObjects(entry, shape_);
    objects.reserve(objects.size() + rendered.workload_entries.size() + 1);
    objects.push_back(std::move(rendered.service_entry));
    for (auto& workload : rendered.workload_entries)
      objects.push_back(std::move(workload));
  };
  if (desired) render(*desired);
  for (const auto& entry : other_segments)
    render(entry);
  const ObjectSetResult written = shape_writer_->Write(key, objects);
  const EventTarget service{"v1", "Service", ns, name};
  for (const auto& conflict : written.conflicts)
    ReportConflict(conflict, &service, "this service is not fully exported here");
  return OutcomeOf(written);
}

ReconcileResult Reconciler::ReconcilePeerGateways() {
  mesh::Diagnostics diagnostics;
  const auto gateways = store_.PlanPeerGateways(options_.target_cluster, shape_, diagnostics);
  std::string digest;
  for (const auto& d : diagnostics)
    digest += mesh::FormatDiagnostic(d) + "\n";
  bool report = false;
  {
    std::lock_guard lock(counts_mutex_);
    auto& last = last_diagnostics_[kPeerGatewaysKey];
    report = last != digest;
    last = digest;
  }
  if (report) {
    for (const auto& d : diagnostics) {
      metrics_.diagnostics.Inc({std::string(mesh::DiagnosticCodeName(d.code))});
      log_.Warn("input problem",
                LogFields{{"key", kPeerGatewaysKey}}.AddAll(mesh::DiagnosticLogFields(d)));
    }
  }
  std::vector<nlohmann::json> objects;
  objects.reserve(gateways.size());
  for (const auto& gateway : gateways)
    objects.push_back(mesh::ToJson(gateway));
  const ObjectSetResult written = shape_writer_->Write(kPeerGatewaysKey, objects);
  for (const auto& conflict : written.conflicts)
    ReportConflict(conflict, nullptr, "");
  return OutcomeOf(written);
}

void Reconciler::ReportConflict(const std::string& object, const EventTarget* service,
                                std::string_view consequence) {
  log_.Error("conflict: object exists and is not managed by globalsvc; it is left untouched",
             {{"object", object}});
  metrics_.conflicts.Inc({"foreign-object"});
  if (events_ == nullptr || service == nullptr) return;
  events_->Warning(*service, "ServiceEntryConflict",
                   object + " exists and is not managed by globalsvc (label " +
                       mesh::kManagedByLabel + "=" + mesh::kManagedByValue +
                       "); it is left untouched and " + std::string(consequence));
}

void Reconciler::PublishStatus(const std::string& key,
                               const std::optional<mesh::ServiceEntry>& desired,
                               const mesh::Diagnostics& diagnostics,
                               const ReconcileResult& result) {
  if (!status_ || (may_write_ && !may_write_())) return;  // a standby publishes nothing
  if (!desired) {
    status_->Set(key, std::nullopt);
    return;
  }
  const auto [key_namespace, key_name] = kube::SplitObjectKey(key);
  const std::string ns(key_namespace);
  const std::string name(key_name);
  ServiceStatusInput input;
  input.entry = &*desired;
  input.diagnostics = &diagnostics;
  for (const auto& cluster : store_.ClusterNames()) {
    store_.Read(cluster, [&](const mesh::ClusterState& state) {
      if (ExportsService(state, ns, name)) input.exporting_clusters.push_back(cluster);
    });
  }
  if (result.outcome == ReconcileOutcome::kConflict) {
    input.state = ServiceEntryState::kConflict;
    input.message = "ServiceEntry " + desired->name +
                    " exists and is not managed by globalsvc; it is left untouched and this "
                    "service is not exported here";
  } else if (result.outcome == ReconcileOutcome::kError) {
    input.state = ServiceEntryState::kError;
    input.message = result.error ? result.error->message : "write failed";
  }
  status_->Set(key, BuildServiceStatus(input));
}

std::map<std::string, Reconciler::Contribution> Reconciler::Contributions() const {
  std::lock_guard lock(counts_mutex_);
  std::map<std::string, Contribution> out;
  for (const auto& [key, by_cluster] : endpoints_by_key_) {
    for (const auto& [cluster, count] : by_cluster) {
      out[cluster].services += 1;
      out[cluster].endpoints += static_cast<std::int64_t>(count);
    }
  }
  return out;
}

void Reconciler::CountEndpoints(const std::string& key,
                                const std::vector<const mesh::ServiceEntry*>& entries) {
  std::map<std::string, double> now;
  for (const mesh::ServiceEntry* entry : entries) {
    for (const auto& endpoint : entry->endpoints) {
      now[endpoint.cluster] += endpoint.weight > 0 ? endpoint.weight : 1;
    }
  }
  std::lock_guard lock(counts_mutex_);
  auto& before = endpoints_by_key_[key];
  for (const auto& [cluster, count] : before)
    metrics_.endpoints.Add(-count, {cluster});
  for (const auto& [cluster, count] : now)
    metrics_.endpoints.Add(count, {cluster});
  if (!entries.empty()) {
    before = std::move(now);
  } else {
    endpoints_by_key_.erase(key);
  }
  metrics_.global_services.Set(static_cast<double>(endpoints_by_key_.size()));
}

}  // namespace globalsvc::controller
