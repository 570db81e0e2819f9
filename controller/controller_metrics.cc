#include "controller/controller_metrics.h"

namespace globalsvc::controller {

ControllerMetrics::ControllerMetrics(obs::Registry& r)
    : registry(r),
      cluster_connected(r.AddGauge("globalsvc_cluster_connected",
                                   "1 while the cluster's watches run without error.",
                                   {"cluster"})),
      cluster_synced(r.AddGauge("globalsvc_cluster_synced",
                                "1 once every cache of the cluster has listed.", {"cluster"})),
      cluster_stale(
          r.AddGauge("globalsvc_cluster_stale",
                     "1 while the cluster is unreachable and its last known endpoints are kept.",
                     {"cluster"})),
      cluster_stale_removed(r.AddGauge(
          "globalsvc_cluster_stale_removed",
          "1 while the remote cluster has been unreachable longer than --remote-stale-timeout "
          "and its endpoints are removed.",
          {"cluster"})),
      watch_restarts(r.AddCounter("globalsvc_watch_errors_total",
                                  "Failed lists or watches, each followed by a backoff.",
                                  {"cluster"})),
      watch_relists(r.AddCounter("globalsvc_watch_relists_total",
                                 "Relists because a watch's resourceVersion expired (410 Gone).",
                                 {"cluster"})),
      remote_secret_errors(r.AddCounter("globalsvc_remote_secret_errors_total",
                                        "Remote cluster Secrets that could not be used.",
                                        {"secret", "reason"})),
      reconciles(r.AddCounter("globalsvc_reconcile_total", "Reconciles of one global service.",
                              {"result"})),
      reconcile_seconds(r.AddHistogram("globalsvc_reconcile_duration_seconds",
                                       "Time to plan and apply one global service.",
                                       {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5})),
      queue_depth(r.AddGauge("globalsvc_queue_depth", "Keys waiting to be reconciled.")),
      writes(r.AddCounter("globalsvc_writes_total", "Writes to the local API server.", {"kind"})),
      conflicts(r.AddCounter("globalsvc_conflicts_total",
                             "Conflicts found while planning or applying.", {"reason"})),
      global_services(r.AddGauge("globalsvc_global_services",
                                 "ServiceEntries globalsvc keeps in this cluster.")),
      endpoints(r.AddGauge("globalsvc_endpoints",
                           "Endpoints each cluster contributes to this cluster's ServiceEntries.",
                           {"cluster"})),
      diagnostics(r.AddCounter("globalsvc_diagnostics_total",
                               "Problems found in input objects, by code.", {"code"})),
      leader(r.AddGauge("globalsvc_leader", "1 while this replica is the leader and writes.")),
      internal_errors(r.AddCounter(
          "globalsvc_internal_errors_total",
          "Exceptions caught where a thread or callback starts: the work was retried, the "
          "process kept running. Any value above 0 is a defect worth reporting.",
          {"where"})) {}

}  // namespace globalsvc::controller
