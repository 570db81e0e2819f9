#pragma once

// Envoy's priority for an endpoint under a DestinationRule's
// localityLbSetting.failoverPriority (ARCHITECTURE.md, "Domain rules"): with N labels, priority
// N - j where j is the index of the first label whose value differs from the
// client's; 0 (highest) when all match. Lower is better; Envoy sends every
// request to the lowest priority that has healthy endpoints.
//
// A list entry "key=value" compares endpoints with that value instead of the
// client's (Istio's override form). A label the client lacks never matches.

#include <map>
#include <span>
#include <string>

#include "lib/failover/failover_model.h"

namespace globalsvc::failover {

using TopologyLabels = std::map<std::string, std::string>;

// The labels Istio matches failoverPriority against: the endpoint's own
// labels, overlaid with region/zone/subzone from its locality, its network and
// its cluster.
[[nodiscard]] TopologyLabels EndpointTopologyLabels(const FailoverEndpoint& endpoint);
[[nodiscard]] TopologyLabels ClientTopologyLabels(const FailoverClient& client);

[[nodiscard]] int FailoverPriority(std::span<const std::string> failover_priority,
                                   const TopologyLabels& client, const TopologyLabels& endpoint);

}  // namespace globalsvc::failover
