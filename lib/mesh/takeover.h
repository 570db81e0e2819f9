#pragma once

// Whether a global service takes over its cluster-local name
// (<svc>.<ns>.svc.<cluster domain>), from solo.io/service-takeover: the
// first explicit "true" or "false" wins, in the order the local Service, the
// local Namespace, then each remote cluster's Service and Namespace by
// cluster name; without one, a global-only scope anywhere means takeover.

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace globalsvc::mesh {

enum class TakeoverValue { kUnset, kTrue, kFalse, kInvalid };

[[nodiscard]] TakeoverValue ParseTakeover(const std::optional<std::string>& label);

// What one cluster says, given in precedence order (the local cluster first).
struct TakeoverVoice {
  std::string cluster;
  std::optional<std::string> service_label;    // on the cluster's Service
  std::optional<std::string> namespace_label;  // on the Service's Namespace there
  bool global_only = false;                    // the cluster exports it as global-only
};

struct TakeoverDecision {
  bool takeover = false;
  // What decided, for messages: "the Service in cluster1", "the Namespace in
  // cluster2", "the global-only scope in cluster2", or empty (the default).
  std::string decided_by;
  // Labels that are neither "true" nor "false", as "<where>: '<value>'";
  // they decide nothing.
  std::vector<std::string> invalid;
};

[[nodiscard]] TakeoverDecision DecideTakeover(std::span<const TakeoverVoice> by_precedence);

}  // namespace globalsvc::mesh
