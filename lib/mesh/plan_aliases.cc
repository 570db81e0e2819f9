#include "lib/mesh/plan_aliases.h"

#include <algorithm>
#include <map>

#include "lib/mesh/aliases.h"

namespace globalsvc::mesh {

std::set<std::string> ExpandAliases(const SegmentGroup& group, const PlanOptions& options,
                                    Diagnostics* diagnostics) {
  std::set<std::string> hosts;
  if (!group.membership.segment) return hosts;
  for (const SegmentAlias& alias : group.membership.segment->aliases) {
    for (const Contributor& c : group.contributors) {
      if (!AliasSelects(alias, *c.service)) continue;
      AliasExpansion expansion = ExpandAlias(alias.pattern, *c.service, options.cluster_domain);
      if (!expansion.host.empty()) {
        hosts.insert(std::move(expansion.host));
      } else if (diagnostics) {
        Report(*diagnostics, Severity::kInfo, DiagnosticCode::kAliasSkipped,
               ServiceRef(*c.cluster, *c.service),
               "alias of segment '" + group.membership.name + "' skipped: " + expansion.skipped);
      }
    }
  }
  return hosts;
}

void DropCollidingAliases(const std::string& key, const SegmentGroup& group,
                          const std::vector<const ClusterState*>& clusters,
                          const ClusterState& target, const PlanOptions& options,
                          std::set<std::string>& hosts, const ObjectRef& reported_on,
                          Diagnostics& diagnostics) {
  if (hosts.empty()) return;
  std::map<std::string, SegmentGroup> others;  // smaller key -> its contributors here
  for (const ClusterState* cluster : clusters) {
    const SegmentMembership membership =
        MembershipOf(*cluster, target, options.control_plane_namespace, options.host_suffix);
    if (membership.refused || membership.name != group.membership.name) continue;
    for (const auto& [other_key, service] : cluster->services()) {
      if (other_key >= key || service.dormant) continue;
      const Namespace* ns = cluster->FindNamespace(service.namespace_name);
      const ScopeDecision scope =
          DecideScope(service.scope_label, ns ? ns->scope_label : std::nullopt);
      if (!scope.exported || (!group.local && scope.value == ScopeValue::kSegment)) continue;
      auto [it, added] = others.try_emplace(other_key);
      if (added) it->second.membership = group.membership;
      it->second.contributors.push_back({cluster, &service, scope.value});
    }
  }
  for (const auto& [other_key, other] : others) {
    for (const std::string& host : ExpandAliases(other, options, nullptr)) {
      if (hosts.erase(host) == 0) continue;
      Report(diagnostics, Severity::kWarning, DiagnosticCode::kAliasCollision, reported_on,
             "alias " + host + " is also the alias of " + other_key +
                 ", which keeps it (the first by namespace/name)");
    }
  }
}

void DropAliasesUnderDomains(const SegmentGroup& group, const ClusterState& target,
                             const PlanOptions& options, std::set<std::string>& aliases,
                             Diagnostics& diagnostics) {
  if (aliases.empty()) return;
  std::set<std::string> domains = {options.host_suffix};
  for (const auto& [name, segment] : target.segments())
    domains.insert(segment.domain);
  for (auto it = aliases.begin(); it != aliases.end();) {
    const std::string& alias = *it;
    const bool under = std::any_of(domains.begin(), domains.end(), [&](const std::string& d) {
      return alias == d || (alias.size() > d.size() && alias.ends_with("." + d));
    });
    if (!under) {
      ++it;
      continue;
    }
    Report(diagnostics, Severity::kInfo, DiagnosticCode::kAliasSkipped,
           ServiceRef(*group.contributors.front().cluster, *group.contributors.front().service),
           "alias " + alias + " of segment '" + group.membership.name +
               "' skipped: it is under a segment's host domain, whose names are the services' "
               "own hosts");
    it = aliases.erase(it);
  }
}

}  // namespace globalsvc::mesh
