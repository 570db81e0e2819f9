#pragma once

// Endpoints of the guide's topology as cluster1's ztunnel or waypoint sees
// them, and small builders for other topologies. Shared by the failover tests.

#include <string>
#include <vector>

#include "lib/failover/failover_simulator.h"

namespace globalsvc::failover::testing {

using mesh::ParseLocality;

inline FailoverEndpoint Pod(std::string address, std::string cluster, std::string network,
                            std::string locality, std::uint32_t weight = 1, std::string node = "") {
  FailoverEndpoint endpoint;
  endpoint.address = std::move(address);
  endpoint.cluster = std::move(cluster);
  endpoint.network = std::move(network);
  endpoint.locality = ParseLocality(locality);
  endpoint.weight = weight;
  endpoint.node = std::move(node);
  return endpoint;
}

inline FailoverEndpoint Gateway(std::string cluster, std::string network, std::string locality,
                                std::uint32_t weight, std::vector<FailoverEndpoint> behind = {}) {
  FailoverEndpoint endpoint =
      Pod("", std::move(cluster), std::move(network), std::move(locality), weight);
  endpoint.behind = std::move(behind);
  return endpoint;
}

inline FailoverClient Client(std::string cluster, std::string network, std::string locality,
                             std::string node = "") {
  return {std::move(cluster), std::move(network), ParseLocality(locality), std::move(node)};
}

// cluster1 (us-east-1, cluster1-network): pods in us-east-1a and us-east-1b.
// cluster2 (us-west-2, cluster2-network): two pods behind its east-west
// gateway, which is labelled us-west-2/us-west-2a.
inline std::vector<FailoverEndpoint> GuideEndpointsSeenFromCluster1() {
  return {
      Pod("10.244.0.5", "cluster1", "cluster1-network", "us-east-1/us-east-1a"),
      Pod("10.244.1.8", "cluster1", "cluster1-network", "us-east-1/us-east-1b"),
      Gateway("cluster2", "cluster2-network", "us-west-2/us-west-2a", 2,
              {Pod("10.245.0.7", "cluster2", "cluster2-network", "us-west-2/us-west-2a"),
               Pod("10.245.1.4", "cluster2", "cluster2-network", "us-west-2/us-west-2b")}),
  };
}

inline FailoverClient GuideClientInCluster1() {
  return Client("cluster1", "cluster1-network", "us-east-1/us-east-1a");
}

inline DestinationRule Rule(std::vector<std::string> failover_priority, bool outlier_detection) {
  DestinationRule rule;
  rule.namespace_name = "httpbin";
  rule.name = "in-ambient-failover";
  rule.host = "in-ambient.httpbin.mesh.internal";
  rule.has_locality_lb_setting = true;
  rule.failover_priority = std::move(failover_priority);
  rule.has_outlier_detection = outlier_detection;
  return rule;
}

// Display names per group, best group first.
inline std::vector<std::vector<std::string>> GroupNames(const Explanation& explanation) {
  std::vector<std::vector<std::string>> groups;
  for (const auto& group : explanation.groups) {
    std::vector<std::string> names;
    for (const auto& ranked : group.endpoints)
      names.push_back(EndpointDisplayName(ranked.endpoint));
    groups.push_back(std::move(names));
  }
  return groups;
}

}  // namespace globalsvc::failover::testing
