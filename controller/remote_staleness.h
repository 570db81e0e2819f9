#pragma once

// How long a remote cluster's last known endpoints are kept while it cannot
// be read. A remote cluster that is unreachable (or has not synced) keeps its
// endpoints, reported stale, so a control-plane outage never removes
// data-plane capacity; with --remote-stale-timeout > 0, one that stays so for
// that long has its endpoints removed until it can be read again.
//
// Pure: the caller passes the time and keeps `unreachable_since` between
// calls.

#include <chrono>
#include <optional>

namespace globalsvc::controller {

enum class RemoteCondition {
  kLive,     // read and synced: its endpoints are current
  kStale,    // cannot be read: its last known endpoints are kept
  kRemoved,  // cannot be read for longer than the stale timeout: endpoints removed
};

[[nodiscard]] const char* RemoteConditionName(RemoteCondition condition);

struct StalenessDecision {
  RemoteCondition condition = RemoteCondition::kLive;
  // When the cluster was first seen unreachable in this spell; empty when live.
  std::optional<std::chrono::steady_clock::time_point> unreachable_since;
};

// `reachable`: every watch of the cluster synced and its last requests
// succeeded. `stale_timeout` zero or less keeps endpoints forever.
[[nodiscard]] StalenessDecision DecideStaleness(
    bool reachable, std::optional<std::chrono::steady_clock::time_point> unreachable_since,
    std::chrono::steady_clock::time_point now, std::chrono::milliseconds stale_timeout);

}  // namespace globalsvc::controller
