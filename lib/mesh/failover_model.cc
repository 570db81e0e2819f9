#include "lib/mesh/failover_model.h"

namespace globalsvc::mesh {

std::string EndpointDisplayName(const FailoverEndpoint& endpoint) {
  if (!endpoint.is_gateway()) return endpoint.address;
  return "gateway(" + (endpoint.cluster.empty() ? std::string("?") : endpoint.cluster) + ")";
}

}  // namespace globalsvc::mesh
