#pragma once

// What some rules need to know of objects other than the one they judge,
// collected once before any rule runs: a Service's Namespace labels, and the
// hosts a DestinationRule may name.

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>

#include "lib/failover/failover_input.h"
#include "lib/failover/lint.h"

namespace globalsvc::failover {

struct LintIndex {
  // By (cluster, namespace name): the Namespace's scope and takeover labels.
  std::map<std::pair<std::string, std::string>, std::optional<std::string>> namespace_scope;
  std::map<std::pair<std::string, std::string>, std::optional<std::string>> namespace_takeover;
  // Hosts some ServiceEntry serves, or some Service labelled global will get.
  std::set<std::string> hosts;
  // The networks of each host's ServiceEntry endpoints.
  std::map<std::string, std::set<std::string>> host_networks;
};

[[nodiscard]] LintIndex IndexObjects(std::span<const SourcedObject> objects,
                                     const LintOptions& options);

}  // namespace globalsvc::failover
