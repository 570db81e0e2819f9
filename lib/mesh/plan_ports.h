#pragma once

// The ports of a global service, merged from every cluster that exports it.

#include <vector>

#include "lib/mesh/plan_contributor.h"
#include "lib/mesh/service_entry.h"

namespace globalsvc::mesh {

// Merges the ports of every contributor, given in precedence order: the local
// cluster's Service first (when it exports one), then the remote clusters' by
// name. The first definition of a port number wins, and so does the first use
// of a port name. Creation timestamps play no part: whoever controls a remote
// cluster writes them, and could backdate a Service to take a port over.
[[nodiscard]] std::vector<ServiceEntryPort> MergePorts(
    const std::vector<Contributor>& by_precedence, const ClusterState& target,
    Diagnostics& diagnostics);

}  // namespace globalsvc::mesh
