#include "controller/remote_health.h"

#include <spdlog/spdlog.h>

#include <set>

#include "controller/remote_staleness.h"
#include "lib/observability/logging.h"

namespace globalsvc::controller {

RemoteHealthTracker::RemoteHealthTracker(MeshStore& store, EventSink* events,
                                         RemoteHealthOptions options)
    : store_(store),
      events_(events),
      options_(std::move(options)),
      log_(obs::ComponentLogger("remote-health")) {}

std::vector<std::string> RemoteHealthTracker::Observe(
    const std::vector<RemoteClusterStatus>& remotes, std::chrono::steady_clock::time_point now) {
  std::vector<std::string> keys;
  std::set<std::string> present;
  for (const auto& remote : remotes) {
    present.insert(remote.cluster);
    const bool synced = remote.connected && remote.health.synced;
    ApplyStaleness(remote, synced && remote.health.healthy, now, keys);

    // Once synced, the cluster's own state replaces what was carried over.
    if (synced && store_.HasCarried(remote.cluster)) {
      auto carried_keys = store_.ServiceKeys(remote.cluster);
      store_.SetCarried(remote.cluster, {});
      log_.Info("remote cluster synced: carried-over endpoints replaced by its own",
                {{"cluster", remote.cluster}});
      keys.insert(keys.end(), carried_keys.begin(), carried_keys.end());
    }

    // Repeats are suppressed by the recorder while the error stays the same;
    // a withheld cluster has had its own Event.
    const std::string error = ReportedHealth(remote).last_error;
    if (!error.empty() && events_ && !store_.IsWithheld(remote.cluster)) {
      events_->Warning({"v1", "Secret", options_.secret_namespace, remote.secret},
                       "RemoteClusterUnreachable",
                       "cluster " + remote.cluster +
                           ": its last known endpoints are kept; last error: " + error);
    }
  }
  std::erase_if(unreachable_since_, [&](const auto& entry) { return !present.count(entry.first); });
  return keys;
}

void RemoteHealthTracker::ApplyStaleness(const RemoteClusterStatus& remote, bool reachable,
                                         std::chrono::steady_clock::time_point now,
                                         std::vector<std::string>& keys) {
  const std::string& cluster = remote.cluster;
  std::optional<std::chrono::steady_clock::time_point> since;
  if (auto it = unreachable_since_.find(cluster); it != unreachable_since_.end()) {
    since = it->second;
  }
  const StalenessDecision decision = DecideStaleness(reachable, since, now, options_.stale_timeout);
  if (decision.unreachable_since) {
    unreachable_since_[cluster] = *decision.unreachable_since;
  } else {
    unreachable_since_.erase(cluster);
  }

  const bool withhold = decision.condition == RemoteCondition::kRemoved;
  if (withhold == store_.IsWithheld(cluster)) return;
  auto changed = store_.ServiceKeys(cluster);
  store_.SetWithheld(cluster, withhold);
  if (withhold) {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(now - *decision.unreachable_since);
    log_.Warn("remote cluster stale for too long: endpoints removed",
              {{"cluster", cluster}, {"seconds", seconds.count()}, {"services", changed.size()}});
    if (events_) {
      events_->Warning(
          {"v1", "Secret", options_.secret_namespace, remote.secret}, "RemoteClusterStaleRemoved",
          "cluster " + cluster + " could not be read for " + std::to_string(seconds.count()) +
              " s (--remote-stale-timeout): its endpoints are removed until it can be read again");
    }
  } else {
    log_.Info("remote cluster readable again: its endpoints return",
              {{"cluster", cluster}, {"services", changed.size()}});
  }
  keys.insert(keys.end(), changed.begin(), changed.end());
}

}  // namespace globalsvc::controller
