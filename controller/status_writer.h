#pragma once

// Publishes one RemoteCluster object per connected cluster (crds/) in the
// control-plane namespace, so `kubectl get remoteclusters -n istio-system`
// shows what the controller knows: connected, synced, stale, network, how many
// global services and endpoints each cluster contributes, the last error.
//
// Rate-limited by construction: Publish() is called from the health loop (every
// few seconds) and writes a cluster's status only when it differs from what
// the cluster holds (what an earlier run wrote is read once at the start, so a
// restart with nothing changed writes nothing). Objects of clusters that are
// gone are deleted. Writes count in globalsvc_writes_total{kind="cluster-status"}.
// A missing CRD or RBAC problem is logged once and never affects the
// controller's main job.
//
// Like every owned object, a RemoteCluster that is not labelled as ours is
// never taken over or deleted: new objects are created (a name taken meanwhile
// fails with a conflict instead of being applied over), and deletes carry the
// uid we wrote. A foreign object is reported once and looked at again after
// kForeignRecheck, in case it was removed.
//
// Only the present state of each cluster is published: a count of watch
// errors would cost a write per error and one after every restart (the metric
// globalsvc_watch_errors_total keeps it), the writer's identity one after
// every restart (the Lease names the leader).
//
// Threads: Publish() from one thread only.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "controller/controller_metrics.h"
#include "controller/owned_object_writer.h"
#include "lib/base/log.h"
#include "lib/kube/clock.h"
#include "lib/kube/object_api.h"

namespace globalsvc::controller {

struct ClusterStatusReport {
  std::string cluster;
  bool local = false;
  std::string secret;
  bool connected = false;
  bool synced = false;
  bool stale = false;
  bool endpoints_removed = false;  // unreachable longer than --remote-stale-timeout
  std::string network;
  std::string segment;          // as the local cluster sees it; empty: the default
  std::string segment_refused;  // why its services are refused; empty: accepted
  std::int64_t services = 0;
  std::int64_t endpoints = 0;
  std::string last_error;
};

const kube::ResourceType& RemoteClusterResource();

class StatusWriter {
 public:
  StatusWriter(kube::ObjectApi& client, std::string namespace_name, ControllerMetrics& metrics,
               kube::Clock& clock = kube::SystemClock::Instance());

  void Publish(const std::vector<ClusterStatusReport>& reports);

  // The longest lastError written (Kubernetes objects are read by people).
  static constexpr std::size_t kMaxLastErrorBytes = 1024;
  // How long a RemoteCluster someone else made is left alone before it is
  // listed again.
  static constexpr std::chrono::minutes kForeignRecheck{5};

 private:
  enum class WriteOutcome { kWritten, kSkipped, kFailed, kStopAll };
  // What the namespace holds under a cluster's name.
  struct Stored {
    std::string uid;
    std::string status;  // as written; compared as text with the next write
    bool managed = true;
  };
  WriteOutcome Write(const ClusterStatusReport& report);
  // Creates the object; on a name taken meanwhile, records who holds it.
  WriteOutcome Create(const std::string& cluster);
  void DeleteGone(const std::set<std::string>& present);
  void Record(const nlohmann::json& object);
  // Every RemoteCluster of the namespace (ours from an earlier run, and
  // foreign ones), with their status.
  Status ReadExisting();
  void WarnOnce(const std::string& what, const Error& error);

  kube::ObjectApi& client_;  // reads; writes go through writer_
  OwnedObjectWriter writer_;
  const std::string namespace_;
  ControllerMetrics& metrics_;
  kube::Clock& clock_;
  Logger log_;
  std::map<std::string, Stored> stored_;  // cluster -> what the namespace holds
  std::set<std::string> foreign_reported_;
  bool listed_existing_ = false;
  kube::Clock::TimePoint relist_at_{};  // set while a foreign object is held
  bool warned_ = false;
};

}  // namespace globalsvc::controller
