#pragma once

// Reconciler: makes the local cluster's ServiceEntry for one key
// ("<ns>/<service>") equal to the plan. It writes only when the content hash
// of the fields globalsvc owns differs (server-side apply, force, as field
// manager "globalsvc"), deletes entries it owns that should not exist, and
// never touches an object of the same name that it does not own (a conflict,
// reported).
//
// Threads: Reconcile() is called by several workers at once, never twice for
// one key at the same time (the work queue guarantees it).

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "controller/controller_metrics.h"
#include "controller/event_sink.h"
#include "controller/mesh_store.h"
#include "controller/object_set_writer.h"
#include "controller/owned_object_writer.h"
#include "controller/service_entry_observer.h"
#include "lib/base/log.h"
#include "lib/base/result.h"
#include "lib/kube/clock.h"
#include "lib/kube/object_api.h"
#include "lib/mesh/planner.h"

namespace globalsvc::controller {

enum class ReconcileOutcome { kUnchanged, kApplied, kDeleted, kConflict, kError };

[[nodiscard]] const char* ReconcileOutcomeName(ReconcileOutcome outcome);

struct ReconcileResult {
  ReconcileOutcome outcome = ReconcileOutcome::kUnchanged;
  std::optional<Error> error;  // set with kError
};

class ServiceStatusWriter;

class Reconciler {
 public:
  Reconciler(MeshStore& store, ServiceEntryObserver& observed, kube::ObjectApi& local,
             mesh::PlanOptions options, ControllerMetrics& metrics, EventSink* events,
             std::function<bool()> may_write, kube::Clock& clock = kube::SystemClock::Instance());

  ReconcileResult Reconcile(const std::string& key);

  // Writes the WorkloadEntry shape through `writer` instead of inline
  // ServiceEntries; the key kPeerGatewaysKey then reconciles the peer
  // Gateways. Set before the first Reconcile.
  void WriteShapeWith(ObjectSetWriter* writer, mesh::ShapeOptions shape) {
    shape_writer_ = writer;
    shape_ = std::move(shape);
  }

  // Hands each reconciled key's GlobalService status to `writer` (may be null).
  void PublishStatusTo(ServiceStatusWriter* writer) { status_ = writer; }

  struct Contribution {
    std::int64_t services = 0;   // ServiceEntries with endpoints of the cluster
    std::int64_t endpoints = 0;  // counting each gateway endpoint by its weight
  };
  // What each cluster contributes to this cluster's ServiceEntries.
  [[nodiscard]] std::map<std::string, Contribution> Contributions() const;

 private:
  ReconcileResult ReconcileService(const std::string& key);
  // Metrics, log lines and Events for a key's problems, when they changed.
  void ReportChangedDiagnostics(const std::string& key, const std::string& ns,
                                const std::string& name, const mesh::Diagnostics& diagnostics);
  // The inline shape: one ServiceEntry per key, never over a foreign one.
  ReconcileResult WriteInline(const std::string& ns, const std::string& name,
                              const std::optional<mesh::ServiceEntry>& desired);
  ReconcileResult Apply(const mesh::ServiceEntry& desired, const nlohmann::json& body,
                        const std::string& desired_hash, Observed observed);
  ReconcileResult Delete(const ObservedEntry& observed);
  ReconcileResult WriteShape(const std::string& key, const std::string& ns, const std::string& name,
                             const std::optional<mesh::ServiceEntry>& desired,
                             const std::vector<mesh::ServiceEntry>& other_segments);
  ReconcileResult ReconcilePeerGateways();
  // A foreign object where ours belongs: logged and counted, and a Warning
  // Event on the Service (when there is one) says what it costs.
  void ReportConflict(const std::string& object, const EventTarget* service,
                      std::string_view consequence);
  // Every entry of the key (each segment's) counts toward its clusters.
  void CountEndpoints(const std::string& key,
                      const std::vector<const mesh::ServiceEntry*>& entries);
  void PublishStatus(const std::string& key, const std::optional<mesh::ServiceEntry>& desired,
                     const mesh::Diagnostics& diagnostics, const ReconcileResult& result);

  MeshStore& store_;
  ServiceEntryObserver& observed_;
  const mesh::PlanOptions options_;
  ControllerMetrics& metrics_;
  EventSink* events_;                // Warning Events on local objects; may be null
  std::function<bool()> may_write_;  // the leader check, right before each write
  OwnedObjectWriter writer_;         // the inline shape's ServiceEntries
  kube::Clock& clock_;               // times each reconcile
  Logger log_;
  ServiceStatusWriter* status_ = nullptr;
  ObjectSetWriter* shape_writer_ = nullptr;
  mesh::ShapeOptions shape_;

  mutable std::mutex counts_mutex_;
  std::map<std::string, std::map<std::string, double>> endpoints_by_key_;  // key -> cluster -> n
  std::map<std::string, std::string> last_diagnostics_;  // key -> digest, to report changes once
};

}  // namespace globalsvc::controller
