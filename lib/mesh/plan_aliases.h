#pragma once

// The alias hosts of a segment's ServiceEntry (aliases.h expands one alias):
// every contributor's expansions, less those a default host could be and
// those a service of a smaller key keeps.

#include <set>
#include <string>
#include <vector>

#include "lib/mesh/plan_options.h"
#include "lib/mesh/plan_segments.h"

namespace globalsvc::mesh {

// The alias hosts every contributor's Service expands to in the group's
// segment, skipped ones reported once each.
[[nodiscard]] std::set<std::string> ExpandAliases(const SegmentGroup& group,
                                                  const PlanOptions& options,
                                                  Diagnostics* diagnostics);

// For each of `hosts`, whether a service of a smaller key in the same
// segment claims it too: that service keeps the alias (a deterministic
// winner), this one drops it with a diagnostic.
void DropCollidingAliases(const std::string& key, const SegmentGroup& group,
                          const std::vector<const ClusterState*>& clusters,
                          const ClusterState& target, const PlanOptions& options,
                          std::set<std::string>& hosts, const ObjectRef& reported_on,
                          Diagnostics& diagnostics);

// An alias under the default domain or a segment's domain could be another
// service's default host: such names are left to default hosts.
void DropAliasesUnderDomains(const SegmentGroup& group, const ClusterState& target,
                             const PlanOptions& options, std::set<std::string>& aliases,
                             Diagnostics& diagnostics);

}  // namespace globalsvc::mesh
