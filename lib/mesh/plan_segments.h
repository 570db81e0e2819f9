#pragma once

// The exporting clusters of a service, grouped by the segment each is in as
// the target cluster sees it: each group is planned as one ServiceEntry.

#include <vector>

#include "lib/mesh/plan_contributor.h"
#include "lib/mesh/plan_options.h"
#include "lib/mesh/segments.h"

namespace globalsvc::mesh {

// The clusters of one segment that export a service, as the target sees
// them.
struct SegmentGroup {
  SegmentMembership membership;
  bool local = false;  // the target's own segment
  std::vector<Contributor> contributors;
};

// Splits the exporting clusters by segment: the target's own segment first
// (every exported scope), then each other segment by name (scope "segment"
// stays inside its segment). A refused cluster contributes nothing.
[[nodiscard]] std::vector<SegmentGroup> GroupBySegment(const std::vector<Contributor>& contributors,
                                                       const ClusterState& target,
                                                       const PlanOptions& options,
                                                       Diagnostics& diagnostics);

}  // namespace globalsvc::mesh
