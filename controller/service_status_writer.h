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
// The existing objects are listed when this replica starts writing and again
// every `relist_period`; keys whose object is missing, changed by someone
// else, or left over from an earlier run go to `on_keys` to be reconciled.
// A missing CRD or permission is logged once and never affects the
// ServiceEntries.
//
// Threads: Set() from any thread; the writer thread does all I/O.

#include <chrono>
#include <condition_variable>
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
#include "controller/projection_sinks.h"
#include "lib/kube/clock.h"
#include "lib/kube/object_api.h"
#include "lib/kube/rate_limiter.h"
#include "lib/mesh/model.h"

namespace spdlog {
class logger;
}

namespace globalsvc::controller {

const kube::ResourceType& GlobalServiceResource();

struct ServiceStatusWriterOptions {
  std::string namespace_name = mesh::kDefaultControlPlaneNamespace;
  // Status writes per second, at most: a share of the client's QPS, so
  // ServiceEntry writes keep the rest.
  double qps = 10;
  int burst = 50;
  std::chrono::seconds relist_period{600};
  std::chrono::seconds retry_delay{5};
  kube::Clock* clock = &kube::SystemClock::Instance();
};

class ServiceStatusWriter {
 public:
  ServiceStatusWriter(kube::ObjectApi& client, ServiceStatusWriterOptions options,
                      ControllerMetrics& metrics, std::function<bool()> may_write,
                      KeysCallback on_keys);
  ~ServiceStatusWriter();

  void Start();
  void Stop();

  // The status of `key` ("<ns>/<service>"); nullopt: it has no object.
  void Set(const std::string& key, std::optional<nlohmann::json> status);

 private:
  struct Stored {
    std::string uid;
    std::string hash;
    bool managed = false;
  };
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
  bool List();
  // False when the write failed and should be retried.
  bool Write(const std::string& key, const Desired& desired);
  bool Remove(const std::string& name, const Stored& stored);
  void Warn(const std::string& what, const Error& error);
  void CountPendingLocked();

  kube::ObjectApi& client_;
  const ServiceStatusWriterOptions options_;
  ControllerMetrics& metrics_;
  std::function<bool()> may_write_;
  KeysCallback on_keys_;
  kube::RateLimiter limiter_;
  obs::Gauge& pending_gauge_;
  std::shared_ptr<spdlog::logger> log_;

  std::mutex mutex_;
  std::condition_variable wake_;            // waited on through the clock
  std::map<std::string, Desired> pending_;  // key -> latest wanted status
  std::map<std::string, Stored> stored_;    // object name -> what the cluster holds
  bool in_flight_ = false;                  // a value taken from pending_ is being written
  bool listed_ = false;
  kube::Clock::TimePoint next_list_{};

  std::set<std::string> foreign_reported_;  // writer thread only
  bool warned_ = false;                     // writer thread only
  std::jthread thread_;
};

}  // namespace globalsvc::controller
