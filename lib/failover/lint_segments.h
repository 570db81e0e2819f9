#pragma once

// Segment and alias problems, found by planning each named cluster as the
// controller would, with the other clusters as its remotes.

#include <span>

#include "lib/failover/failover_input.h"
#include "lib/failover/lint_rule.h"

namespace globalsvc::failover {

// Objects without a cluster are left out: the planner needs to know whose
// they are. Each problem is reported once, a refused remote once per target.
void LintSegments(std::span<const SourcedObject> objects, LintContext& context);

}  // namespace globalsvc::failover
