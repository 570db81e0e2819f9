#include "lib/failover/failover_model.h"

namespace globalsvc::failover {

std::string EndpointDisplayName(const FailoverEndpoint& endpoint) {
  if (!endpoint.is_gateway()) return endpoint.address;
  return "gateway(" + (endpoint.cluster.empty() ? std::string("?") : endpoint.cluster) + ")";
}

}  // namespace globalsvc::failover
