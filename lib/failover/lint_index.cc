#include "lib/failover/lint_index.h"

#include "lib/failover/lint_rule.h"
#include "lib/mesh/scope.h"

namespace globalsvc::failover {

using mesh::DecideScope;
using mesh::kScopeLabel;
using mesh::kServiceTakeoverLabel;

namespace {

using nlohmann::json;

void IndexServiceEntryHosts(const json& entry, LintIndex& index) {
  std::set<std::string> networks;
  if (const json* endpoints = FieldAt(entry, {"spec", "endpoints"});
      endpoints && endpoints->is_array()) {
    for (const json& endpoint : *endpoints) {
      const std::string network = StringFieldAt(endpoint, {"network"});
      if (!network.empty()) networks.insert(network);
    }
  }
  if (const json* hosts = FieldAt(entry, {"spec", "hosts"}); hosts && hosts->is_array()) {
    for (const json& host : *hosts) {
      if (!host.is_string()) continue;
      index.hosts.insert(host.get<std::string>());
      index.host_networks[host.get<std::string>()].insert(networks.begin(), networks.end());
    }
  }
}

// A Service's global host, when its scope (or its Namespace's) exports it.
void IndexServiceHost(const SourcedObject& sourced, const LintOptions& options, LintIndex& index) {
  const std::string ns = StringFieldAt(sourced.object, {"metadata", "namespace"});
  const auto it = index.namespace_scope.find({sourced.cluster, ns});
  const auto decision =
      DecideScope(OptionalStringAt(sourced.object, {"metadata", "labels", kScopeLabel}),
                  it == index.namespace_scope.end() ? std::nullopt : it->second);
  if (decision.exported) {
    index.hosts.insert(StringFieldAt(sourced.object, {"metadata", "name"}) + "." + ns + "." +
                       options.host_suffix);
  }
}

}  // namespace

LintIndex IndexObjects(std::span<const SourcedObject> objects, const LintOptions& options) {
  LintIndex index;
  // Namespaces first: a Service's scope may come from its Namespace.
  for (const auto& sourced : objects) {
    if (StringFieldAt(sourced.object, {"kind"}) != "Namespace") continue;
    const std::pair<std::string, std::string> key{
        sourced.cluster, StringFieldAt(sourced.object, {"metadata", "name"})};
    index.namespace_scope[key] =
        OptionalStringAt(sourced.object, {"metadata", "labels", kScopeLabel});
    index.namespace_takeover[key] =
        OptionalStringAt(sourced.object, {"metadata", "labels", kServiceTakeoverLabel});
  }
  for (const auto& sourced : objects) {
    const std::string kind = StringFieldAt(sourced.object, {"kind"});
    if (kind == "ServiceEntry") {
      IndexServiceEntryHosts(sourced.object, index);
    } else if (kind == "Service") {
      IndexServiceHost(sourced, options, index);
    }
  }
  return index;
}

}  // namespace globalsvc::failover
