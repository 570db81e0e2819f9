#pragma once

// The clusters' health, every 2 s on a thread of its own (ARCHITECTURE.md,
// "Threads"): each remote's staleness decided (its services enqueued when
// that changes what is planned), every cluster's gauges and counters set, a
// remote Secret's problems recorded as Events, and, by the leader once its
// first pass has counted every service, the RemoteCluster status written
// and the old API group's objects cleaned up.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "controller/cluster_connection.h"
#include "controller/controller_metrics.h"
#include "controller/error_delta.h"
#include "controller/event_sink.h"
#include "controller/first_pass.h"
#include "controller/legacy_status_cleanup.h"
#include "controller/mesh_store.h"
#include "controller/reconciler.h"
#include "controller/remote_clusters.h"
#include "controller/remote_health.h"
#include "controller/status_writer.h"
#include "lib/kube/clock.h"
#include "lib/kube/work_queue.h"

namespace globalsvc::controller {

struct ClusterHealthLoopOptions {
  std::string cluster_name;  // the local cluster
  std::string control_plane_namespace;
  std::string host_suffix;
  std::string secret_namespace;  // of the remote Secrets
  kube::Clock* clock = &kube::SystemClock::Instance();
};

// What the loop reads and writes; owned by the controller, which outlives
// the loop. Any part but the metrics, store, queue and first pass may be
// null (not configured, or not started).
struct ClusterHealthParts {
  ControllerMetrics* metrics = nullptr;
  MeshStore* store = nullptr;
  const kube::WorkQueue* queue = nullptr;  // its depth is a gauge
  const FirstPass* first_pass = nullptr;
  ClusterConnection* local = nullptr;
  const RemoteClusterView* remotes = nullptr;
  RemoteHealthTracker* health = nullptr;  // this loop's thread only
  const Reconciler* reconciler = nullptr;
  EventSink* events = nullptr;
  StatusWriter* status = nullptr;
  LegacyStatusCleanup* legacy_cleanup = nullptr;
  std::function<bool()> may_write;
  std::function<void(std::vector<std::string>)> enqueue;
};

class ClusterHealthLoop {
 public:
  ClusterHealthLoop(ClusterHealthLoopOptions options, ClusterHealthParts parts);
  ~ClusterHealthLoop() { Stop(); }
  ClusterHealthLoop(const ClusterHealthLoop&) = delete;
  ClusterHealthLoop& operator=(const ClusterHealthLoop&) = delete;

  void Start();
  // One round of the thread: the remotes' health observed at the clock's
  // now (their staleness decided, the services it changes enqueued), then
  // Refresh(). Public so that unit tests drive rounds with a manual clock.
  void Round();
  // Joins the thread; idempotent.
  void Stop() { thread_ = {}; }
  // The gauges and, when writing is allowed, the status, once: Stop()'s last
  // word, after the thread is joined (Publish() runs on one thread at a time).
  void Refresh();

 private:
  // One cluster as the loop sees it.
  struct ClusterSample {
    std::string cluster;
    ClusterHealth health;
    bool local = false;
    std::string secret;            // a remote's Secret
    std::uint64_t generation = 0;  // of its connection (error counts restart with it)
  };
  using ContributionMap = std::map<std::string, Reconciler::Contribution>;

  void Run(std::stop_token stop);
  // Its gauges and counters set, and its RemoteCluster status.
  ClusterStatusReport ReportCluster(const ClusterSample& sample,
                                    const ContributionMap& contributions);
  void RecordSecretProblems();

  ClusterHealthLoopOptions options_;
  ClusterHealthParts parts_;
  ErrorDelta watch_errors_;
  ErrorDelta watch_relists_;
  std::jthread thread_;
};

}  // namespace globalsvc::controller
