#include "controller/cluster_health_loop.h"

#include <chrono>
#include <utility>

#include "controller/stop_sleep.h"
#include "lib/base/guard.h"
#include "lib/mesh/planner.h"

namespace globalsvc::controller {

ClusterHealthLoop::ClusterHealthLoop(ClusterHealthLoopOptions options, ClusterHealthParts parts)
    : options_(std::move(options)), parts_(std::move(parts)) {}

void ClusterHealthLoop::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void ClusterHealthLoop::Run(std::stop_token stop) {
  do {
    (void)RunGuarded("health loop", [&] { Round(); });
  } while (SleepFor(stop, std::chrono::seconds(2)));
}

void ClusterHealthLoop::Round() {
  if (parts_.remotes && parts_.health) {
    parts_.enqueue(parts_.health->Observe(parts_.remotes->Status(), options_.clock->Now()));
  }
  Refresh();
}

ClusterStatusReport ClusterHealthLoop::ReportCluster(const ClusterSample& sample,
                                                     const ContributionMap& contributions) {
  ControllerMetrics& metrics = *parts_.metrics;
  MeshStore& store = *parts_.store;
  const std::string& cluster = sample.cluster;
  const ClusterHealth& health = sample.health;
  metrics.cluster_synced.Set(health.synced ? 1 : 0, {cluster});
  metrics.cluster_connected.Set(health.healthy ? 1 : 0, {cluster});
  // Stale: its last known (or carried-over) endpoints are kept while it
  // cannot be read; removed: kept no longer (--remote-stale-timeout).
  const bool removed = !sample.local && store.IsWithheld(cluster);
  const bool stale = !removed && ((health.synced && !health.healthy) ||
                                  (!sample.local && store.HasCarried(cluster)));
  metrics.cluster_stale.Set(stale ? 1 : 0, {cluster});
  if (!sample.local) metrics.cluster_stale_removed.Set(removed ? 1 : 0, {cluster});
  if (const auto delta = watch_errors_.Observe(cluster, sample.generation, health.errors)) {
    metrics.watch_restarts.Inc({cluster}, static_cast<double>(delta));
  }
  if (const auto delta = watch_relists_.Observe(cluster, sample.generation, health.relists)) {
    metrics.watch_relists.Inc({cluster}, static_cast<double>(delta));
  }

  ClusterStatusReport report;
  report.cluster = cluster;
  report.local = sample.local;
  report.secret = sample.secret;
  report.connected = health.healthy;
  report.synced = health.synced;
  report.stale = stale;
  report.endpoints_removed = removed;
  store.Read(cluster, [&](const mesh::ClusterState& state) { report.network = state.network(); });
  mesh::PlanOptions segment_view;
  segment_view.target_cluster = options_.cluster_name;
  segment_view.control_plane_namespace = options_.control_plane_namespace;
  segment_view.host_suffix = options_.host_suffix;
  if (auto membership = store.Membership(cluster, segment_view)) {
    report.segment = membership->name;
    report.segment_refused = membership->reason;
  }
  if (auto it = contributions.find(cluster); it != contributions.end()) {
    report.services = it->second.services;
    report.endpoints = it->second.endpoints;
  }
  report.last_error = health.last_error;
  return report;
}

// Level-triggered like the rest: a Secret's problem is recorded again while
// it lasts (by a new leader at once, else when the recorder allows).
void ClusterHealthLoop::RecordSecretProblems() {
  if (!parts_.remotes || !parts_.events) return;
  for (const auto& problem : parts_.remotes->Problems()) {
    parts_.events->Warning({"v1", "Secret", options_.secret_namespace, problem.secret},
                           "RemoteClusterSecret", problem.message);
  }
}

void ClusterHealthLoop::Refresh() {
  const auto contributions =
      parts_.reconciler ? parts_.reconciler->Contributions() : ContributionMap{};
  std::vector<ClusterStatusReport> reports;
  if (parts_.local) {
    reports.push_back(
        ReportCluster({options_.cluster_name, parts_.local->Health(), true, "", 0}, contributions));
  }
  if (parts_.remotes) {
    for (const auto& remote : parts_.remotes->Status()) {
      reports.push_back(ReportCluster({remote.cluster, ReportedHealth(remote), false, remote.secret,
                                       remote.connection_generation},
                                      contributions));
    }
  }
  RecordSecretProblems();
  parts_.metrics->queue_depth.Set(
      static_cast<double>(parts_.queue->ready_count() + parts_.queue->delayed_count()));
  const bool may_write = parts_.may_write && parts_.may_write();
  // Status objects are written by the leader only, once its first pass has
  // counted every service, at this loop's pace and only when they change.
  if (parts_.status && parts_.first_pass->done() && may_write) parts_.status->Publish(reports);
  // Objects of the old API group: deleted once, by the leader; a transient
  // error is tried again on the next round.
  if (parts_.legacy_cleanup && !parts_.legacy_cleanup->done() && may_write) {
    (void)parts_.legacy_cleanup->Run();
  }
}

}  // namespace globalsvc::controller
