#pragma once

// Every metric the controller exports, registered once. Names follow
// Prometheus conventions: globalsvc_<what>_<unit>, counters end in _total.

#include "lib/observability/metrics.h"

namespace globalsvc::controller {

struct ControllerMetrics {
  explicit ControllerMetrics(obs::Registry& registry);

  obs::Registry& registry;
  // Clusters: label cluster (and role local|remote where useful).
  obs::Gauge& cluster_connected;       // 1 while its watches run without error
  obs::Gauge& cluster_synced;          // 1 once every cache of it listed
  obs::Gauge& cluster_stale;           // 1 while its last known state is kept through errors
  obs::Gauge& cluster_stale_removed;   // 1 while its endpoints are removed (--remote-stale-timeout)
  obs::Counter& watch_restarts;        // failed lists/watches (each followed by a backoff)
  obs::Counter& watch_relists;         // relists because a watch's version expired (410 Gone)
  obs::Counter& remote_secret_errors;  // labels secret, reason
  // Reconcile.
  obs::Counter& reconciles;  // label result: unchanged|applied|deleted|conflict|error
  obs::Histogram& reconcile_seconds;
  obs::Gauge& queue_depth;
  obs::Counter& writes;           // label kind: apply|delete
  obs::Counter& conflicts;        // label reason: foreign-object|port|traffic-distribution
  obs::Gauge& global_services;    // ServiceEntries globalsvc owns in this cluster
  obs::Gauge& endpoints;          // label cluster: endpoints it contributes here
  obs::Counter& diagnostics;      // label code
  obs::Gauge& leader;             // 1 while this replica writes
  obs::Counter& internal_errors;  // label where: exceptions caught at a thread or callback root
};

}  // namespace globalsvc::controller
