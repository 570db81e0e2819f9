#include "controller/remote_staleness.h"

namespace globalsvc::controller {

const char* RemoteConditionName(RemoteCondition condition) {
  switch (condition) {
    case RemoteCondition::kLive:
      return "live";
    case RemoteCondition::kStale:
      return "stale";
    case RemoteCondition::kRemoved:
      return "removed";
  }
  return "unknown";
}

StalenessDecision DecideStaleness(
    bool reachable, std::optional<std::chrono::steady_clock::time_point> unreachable_since,
    std::chrono::steady_clock::time_point now, std::chrono::milliseconds stale_timeout) {
  if (reachable) return {RemoteCondition::kLive, std::nullopt};
  const auto since = unreachable_since.value_or(now);
  const bool expired = stale_timeout.count() > 0 && now - since >= stale_timeout;
  return {expired ? RemoteCondition::kRemoved : RemoteCondition::kStale, since};
}

}  // namespace globalsvc::controller
