#pragma once

// The traffic distribution a global service is planned with, from what its
// exporting clusters ask for.

#include <string>
#include <vector>

#include "lib/mesh/plan_contributor.h"

namespace globalsvc::mesh {

// The local cluster's Service decides when it exports the service; else the
// value every remote cluster agrees on (a disagreement gives the default).
// An unknown value is kept, with a warning.
[[nodiscard]] std::string DecideTrafficDistribution(const std::vector<Contributor>& contributors,
                                                    const ClusterState& target,
                                                    Diagnostics& diagnostics);

}  // namespace globalsvc::mesh
