#pragma once

// Keeps one GlobalService object (crds/) per global service in the
// control-plane namespace, so `kubectl get globalservices -n istio-system`
// shows what the controller made of each service.
//
// Workers hand the status a key should have to Set() (nothing: the object
// goes); one thread of its own writes it, latest value per key only, through
// a token bucket, so status never delays ServiceEntry writes and a burst of
// changes to one service is one write. A write happens only when the status
// hash differs from the stored object's: after a restart with nothing
// changed, nothing is written. Objects without app.kubernetes.io/managed-by:
// globalsvc are never written or deleted; deletes carry a uid precondition.
//
// What the cluster holds comes from a watch: the writer is the sink of a
// reflector on GlobalService objects in its namespace. The first list hands
// every key with an object to `on_keys` (objects of an earlier run are
// checked); after that, an object that appears, goes or changes other than
// by our own write hands its key on, so an edit or delete by someone else is
// repaired at once. Echoes of our own writes are recognised by their
// resourceVersion and change nothing. Nothing is written before the first
// list. A missing CRD or permission is logged once and never affects the
// ServiceEntries.
//
// Threads: Set() from any thread; the sink calls from the reflector's thread;
// the writer thread does all writes.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/controller_metrics.h"
#include "controller/owned_object_writer.h"
#include "controller/projection_sinks.h"
#include "lib/base/log.h"
#include "lib/kube/clock.h"
#include "lib/kube/object_api.h"
#include "lib/kube/rate_limiter.h"
#include "lib/kube/reflector_sink.h"
#include "lib/mesh/model.h"

namespace globalsvc::controller {

const kube::ResourceType& GlobalServiceResource();

struct ServiceStatusWriterOptions {
  std::string namespace_name = mesh::kDefaultControlPlaneNamespace;
  // Status writes per second, at most: a share of the client's QPS, so
  // ServiceEntry writes keep the rest.
  double qps = 10;
  int burst = 50;
  std::chrono::seconds retry_delay{5};
  kube::Clock* clock = &kube::SystemClock::Instance();
};

class ServiceStatusWriter final : public kube::ReflectorSink {
 public:
  ServiceStatusWriter(kube::ObjectApi& client, ServiceStatusWriterOptions options,
                      ControllerMetrics& metrics, std::function<bool()> may_write,
                      KeysCallback on_keys);
  ~ServiceStatusWriter() override;

  void Start();
  void Stop();

  // The status of `key` ("<ns>/<service>"); nullopt: it has no object.
  void Set(const std::string& key, std::optional<nlohmann::json> status);

  // kube::ReflectorSink: the GlobalService objects of the namespace.
  void BeginReplace() override;
  void ReplaceItem(nlohmann::json&& object) override;
  void EndReplace() override;
  void AbortReplace() override;
  void ApplyEvent(kube::WatchEventType type, nlohmann::json&& object) override;

 private:
  struct Stored {
    std::string uid;
    std::string hash;
    bool managed = false;
    std::string resource_version;
  };
  // Our own writes whose watch events have not come back yet, oldest first;
  // a few at most (older ones are dropped: their echo may never come).
  static constexpr std::size_t kMaxOwnVersions = 4;
  struct Desired {
    // Serialised: a JSON tree takes several times the memory, and up to one
    // status per global service waits here while writes are rate-limited.
    std::optional<std::string> status;
    std::string hash;
  };

  void Run(std::stop_token stop);
  // Waits until `deadline` on the clock, or until stopped; Set() does not end it.
  void SleepUntil(std::unique_lock<std::mutex>& lock, std::stop_token stop,
                  kube::Clock::TimePoint deadline);
  static std::pair<std::string, Stored> StoredOf(const nlohmann::json& object);
  // Records the server's answer to our own write of `name`.
  void RecordOwnWriteLocked(const std::string& name, Stored stored);
  // Ends the write under way; true when others changed its object meanwhile.
  bool EndFlightLocked();
  // False when the write failed and should be retried.
  bool Write(const std::string& key, const Desired& desired);
  bool Remove(const std::string& name, const Stored& stored);
  // The object, created empty with our labels; nullopt when it could not be
  // (then what the server holds, if anything, is remembered).
  std::optional<Stored> Create(const std::string& name);
  // Server-side apply of the status subresource.
  bool ApplyStatus(const std::string& name, const Desired& desired);
  void Warn(std::string_view what, const std::string& name, const Error& error);
  void CountPendingLocked();

  kube::ObjectApi& client_;  // reads; writes go through writer_
  OwnedObjectWriter writer_;
  const ServiceStatusWriterOptions options_;
  ControllerMetrics& metrics_;
  std::function<bool()> may_write_;
  KeysCallback on_keys_;
  kube::RateLimiter limiter_;
  obs::Gauge& pending_gauge_;
  Logger log_;

  std::mutex mutex_;
  std::condition_variable wake_;             // waited on through the clock
  std::map<std::string, Desired> pending_;   // key -> latest wanted status
  std::map<std::string, Stored> stored_;     // object name -> what the cluster holds
  std::map<std::string, Stored> replacing_;  // a list being received
  std::map<std::string, std::deque<std::string>> own_versions_;  // name -> our unechoed writes
  // The write under way (a value taken from pending_) and the events of its
  // object that arrived meanwhile: resourceVersion, and whether a delete.
  struct Flight {
    std::string name;
    std::vector<std::pair<std::string, bool>> seen;
    std::vector<std::string> written;  // versions our answers carried
    bool deleted = false;              // we deleted it
  };
  std::optional<Flight> in_flight_;
  bool listed_ = false;  // the first list has been received

  std::set<std::string> foreign_reported_;  // writer thread only
  bool warned_ = false;                     // writer thread only
  std::jthread thread_;
};

}  // namespace globalsvc::controller
