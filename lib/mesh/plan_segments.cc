#include "lib/mesh/plan_segments.h"

#include <algorithm>
#include <map>
#include <string>

namespace globalsvc::mesh {

std::vector<SegmentGroup> GroupBySegment(const std::vector<Contributor>& contributors,
                                         const ClusterState& target, const PlanOptions& options,
                                         Diagnostics& diagnostics) {
  std::vector<SegmentGroup> groups;
  groups.push_back(
      {MembershipOf(target, target, options.control_plane_namespace, options.host_suffix),
       true,
       {}});
  std::map<std::string, std::size_t> index;  // other segment -> position in groups
  for (const Contributor& c : contributors) {
    SegmentMembership membership =
        MembershipOf(*c.cluster, target, options.control_plane_namespace, options.host_suffix);
    if (membership.refused) {
      Report(diagnostics, Severity::kWarning, DiagnosticCode::kSegmentRefused,
             ServiceRef(*c.cluster, *c.service),
             "cluster '" + c.cluster->name() + "' is refused: " + membership.reason +
                 "; its endpoints are not planned (apply that Segment here, as in its cluster)");
      continue;
    }
    if (c.scope == ScopeValue::kSegment && membership.name.empty()) {
      Report(diagnostics, Severity::kInfo, DiagnosticCode::kSegmentScopeWithoutSegment,
             ServiceRef(*c.cluster, *c.service),
             std::string(kScopeLabel) + "=segment in cluster '" + c.cluster->name() +
                 "', which is in no segment: the service is shared with the other clusters of "
                 "the default segment");
    }
    if (membership.name == groups.front().membership.name) {
      groups.front().contributors.push_back(c);
      continue;
    }
    if (c.scope == ScopeValue::kSegment) continue;  // not for other segments
    auto [it, added] = index.emplace(membership.name, 0);
    if (added) {
      it->second = groups.size();
      groups.push_back({std::move(membership), false, {}});
    }
    groups[it->second].contributors.push_back(c);
  }
  std::sort(groups.begin() + 1, groups.end(), [](const SegmentGroup& a, const SegmentGroup& b) {
    return a.membership.name < b.membership.name;
  });
  return groups;
}

}  // namespace globalsvc::mesh
