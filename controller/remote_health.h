#pragma once

// The health of the remote clusters, acted on: one round per observation of
// RemoteClusters::Status().
// - A cluster that cannot be read keeps its last known endpoints (stale);
//   past --remote-stale-timeout they are withheld from the plan until it can
//   be read again (remote_staleness.h decides; this applies it).
// - A cluster that syncs replaces the endpoints carried over for it.
// - An unreachable cluster is reported on its Secret as a Warning Event.
// Each change of what is planned returns the service keys to reconcile.
//
// Threads: one caller at a time (the controller's health loop); the MeshStore
// and the EventSink are thread-safe.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/event_sink.h"
#include "controller/mesh_store.h"
#include "controller/remote_clusters.h"
#include "lib/base/log.h"

namespace globalsvc::controller {

struct RemoteHealthOptions {
  // Zero or less keeps an unreachable cluster's endpoints forever.
  std::chrono::milliseconds stale_timeout{0};
  std::string secret_namespace;  // where the remote Secrets (the Events' objects) live
};

class RemoteHealthTracker {
 public:
  // `events` may be null (no Events).
  RemoteHealthTracker(MeshStore& store, EventSink* events, RemoteHealthOptions options);

  // Applies one observation of every remote cluster at `now`; returns the
  // service keys whose plan may have changed. Clusters absent from `remotes`
  // are forgotten.
  [[nodiscard]] std::vector<std::string> Observe(const std::vector<RemoteClusterStatus>& remotes,
                                                 std::chrono::steady_clock::time_point now);

 private:
  // The withheld transition of one cluster; appends the keys it changes.
  void ApplyStaleness(const RemoteClusterStatus& remote, bool reachable,
                      std::chrono::steady_clock::time_point now, std::vector<std::string>& keys);

  MeshStore& store_;
  EventSink* events_;
  const RemoteHealthOptions options_;
  std::map<std::string, std::chrono::steady_clock::time_point> unreachable_since_;
  Logger log_;
};

}  // namespace globalsvc::controller
