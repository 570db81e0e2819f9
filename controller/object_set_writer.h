#pragma once

// One writer for the objects of the WorkloadEntry shape: makes what the local
// cluster holds under one owner key (a service's ServiceEntry and
// WorkloadEntries, or the peer Gateways) equal to the desired set. It writes
// only objects whose owned-field hash differs (server-side apply, force, field
// manager "globalsvc"), deletes owned objects no longer desired (uid
// precondition, so a newer object of the same name is never deleted), and
// leaves an object it does not own untouched (a conflict, reported).
//
// Threads: Write() is called by several workers at once, never twice for
// one owner key at the same time (the work queue guarantees it).

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "controller/controller_metrics.h"
#include "controller/owned_object_observer.h"
#include "controller/owned_object_writer.h"
#include "lib/base/log.h"
#include "lib/base/result.h"
#include "lib/kube/object_api.h"

namespace globalsvc::controller {

// What the local cluster holds of each kind the shape writes.
struct ShapeObservers {
  OwnedObjectObserver* service_entries = nullptr;
  OwnedObjectObserver* workload_entries = nullptr;
  OwnedObjectObserver* gateways = nullptr;

  [[nodiscard]] bool synced() const;
};

struct ObjectSetResult {
  int applied = 0;
  int deleted = 0;
  std::vector<std::string> conflicts;  // "<Kind> <ns>/<name>" not owned by globalsvc
  std::optional<Error> error;          // the first failed write; the others were tried
};

class ObjectSetWriter {
 public:
  ObjectSetWriter(kube::ObjectApi& local, ShapeObservers observers, ControllerMetrics& metrics,
                  std::function<bool()> may_write);

  // `desired`: ServiceEntry, WorkloadEntry or Gateway objects (complete, with
  // kind, namespace and name), all of `owner_key`.
  ObjectSetResult Write(const std::string& owner_key, const std::vector<nlohmann::json>& desired);

 private:
  using ObjectKeys = std::set<std::pair<std::string, std::string>>;  // (kind, "<ns>/<name>")

  OwnedObjectObserver* ObserverOf(const std::string& kind) const;
  // Whether writes are allowed; if not, the result says why.
  bool MayWrite(ObjectSetResult& result) const;
  // Applies what differs from what is observed; returns every desired object.
  ObjectKeys ApplyDesired(const std::string& owner_key, const std::vector<nlohmann::json>& desired,
                          ObjectSetResult& result);
  // Deletes the owner's objects that are not desired (uid preconditions).
  void DeleteUnwanted(const std::string& owner_key, const ObjectKeys& wanted,
                      ObjectSetResult& result);

  OwnedObjectWriter writer_;
  ShapeObservers observers_;
  ControllerMetrics& metrics_;
  Logger log_;
};

}  // namespace globalsvc::controller
