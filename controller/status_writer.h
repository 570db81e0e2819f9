#pragma once

// Publishes one RemoteCluster object per connected cluster (crds/) in the
// control-plane namespace, so `kubectl get remoteclusters -n istio-system`
// shows what the controller knows: connected, synced, stale, network, how many
// global services and endpoints each cluster contributes, the last error.
//
// Rate-limited by construction: Publish() is called from the gauge loop (every
// few seconds) and writes a cluster's status only when it differs from what
// the cluster holds (what an earlier run wrote is read once at the start, so a
// restart with nothing changed writes nothing). Objects of clusters that are
// gone are deleted. Writes count in globalsvc_writes_total{kind="cluster-status"}.
// A missing CRD or RBAC problem is logged once and never affects the
// controller's main job.
//
// Only the present state of each cluster is published: a count of watch
// errors would cost a write per error and one after every restart (the metric
// globalsvc_watch_errors_total keeps it), the writer's identity one after
// every restart (the Lease names the leader).
//
// Threads: Publish() from one thread only.

#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "controller/controller_metrics.h"
#include "lib/kube/kube_client.h"

namespace spdlog {
class logger;
}

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
  std::int64_t services = 0;
  std::int64_t endpoints = 0;
  std::string last_error;
};

const kube::ResourceType& RemoteClusterResource();

class StatusWriter {
 public:
  StatusWriter(kube::KubeClient& client, std::string namespace_name, ControllerMetrics& metrics);

  void Publish(const std::vector<ClusterStatusReport>& reports);

  // The longest lastError written (Kubernetes objects are read by people).
  static constexpr std::size_t kMaxLastErrorBytes = 1024;

 private:
  enum class WriteOutcome { kWritten, kFailed, kStopAll };
  WriteOutcome Write(const ClusterStatusReport& report);
  void DeleteGone(const std::set<std::string>& present);
  // Our objects from an earlier run and their status.
  Status ReadExisting();

  kube::KubeClient& client_;
  const std::string namespace_;
  ControllerMetrics& metrics_;
  std::shared_ptr<spdlog::logger> log_;
  std::map<std::string, std::string> published_;  // cluster -> status as written
  bool listed_existing_ = false;
  bool warned_ = false;
};

}  // namespace globalsvc::controller
