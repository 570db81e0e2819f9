#pragma once

// ztunnel's endpoint ranking for a traffic distribution (ARCHITECTURE.md, "Domain rules"): walk the
// routing preference, +1 per matching scope, stop at the first mismatch. When
// NETWORK comes first, a network match is worth (len - 1) extra and a network
// mismatch does not stop the walk, so any same-network endpoint outranks every
// other-network one while locality still orders each side. Higher is better;
// only endpoints of the top rank receive traffic.

#include <span>

#include "lib/failover/failover_model.h"
#include "lib/mesh/traffic_distribution.h"

namespace globalsvc::failover {

[[nodiscard]] int ZtunnelRank(std::span<const mesh::LocalityScope> preference,
                              const FailoverClient& client, const FailoverEndpoint& endpoint);

}  // namespace globalsvc::failover
