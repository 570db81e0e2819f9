#pragma once

// solo.io/service-takeover (takeover.h) and what upstream istiod can make of
// it. Without a Service of that name here, the ServiceEntry also carries the
// cluster-local name. With a global one, its selector goes onto the other
// clusters' WorkloadEntries so that istiod adds them to the Service itself
// (PILOT_ENABLE_K8S_SELECT_WORKLOAD_ENTRIES, on by default). A Service here
// that is not global keeps its name and endpoints: nothing takes it over.

#include <string>
#include <vector>

#include "lib/mesh/plan_contributor.h"
#include "lib/mesh/plan_options.h"
#include "lib/mesh/service_entry.h"

namespace globalsvc::mesh {

void ApplyTakeover(const std::string& key, const std::vector<Contributor>& contributors,
                   const ClusterState& target, const PlanOptions& options, ServiceEntry& entry,
                   Diagnostics& diagnostics);

}  // namespace globalsvc::mesh
