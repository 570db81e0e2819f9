#pragma once

// Istio's limit on the endpoints of one ServiceEntry, shared fairly between
// the clusters that export the service.

#include <cstddef>
#include <string>
#include <vector>

#include "lib/mesh/diagnostic.h"
#include "lib/mesh/service_entry.h"

namespace globalsvc::mesh {

// Keeps at most `cap` endpoints. The cap is split between the contributing
// clusters with max-min fairness, the local cluster served first, so no
// cluster (least of all the local one) can be crowded out by another that
// lists more endpoints or invents more localities; each cluster's share is
// taken round-robin across its localities. Gateway endpoints count as their
// cluster's endpoints.
void ApplyEndpointCap(std::vector<ServiceEntryEndpoint>& endpoints, std::size_t cap,
                      const std::string& local_cluster, const ObjectRef& object,
                      Diagnostics& diagnostics);

}  // namespace globalsvc::mesh
