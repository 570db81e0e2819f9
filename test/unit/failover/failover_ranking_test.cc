// The two ranking algorithms against hand-computed values.

#include <catch2/catch.hpp>

#include "lib/failover/ranking_failover_priority.h"
#include "lib/failover/ranking_ztunnel.h"
#include "test/unit/failover/failover_test_topology.h"

namespace globalsvc::failover {

using mesh::kClusterLabel;
using mesh::kNetworkLabel;
using mesh::kRegionLabel;
using mesh::kSubzoneLabel;
using mesh::kZoneLabel;
using mesh::RoutingPreference;
using mesh::TrafficDistribution;

namespace {

using testing::Client;
using testing::Pod;

TEST_CASE("ztunnel ranks endpoints by walking the routing preference", "[failover][ranking]") {
  const FailoverClient client = Client("c1", "net1", "r1/z1/s1", "node-1");
  struct Case {
    const char* name;
    TrafficDistribution distribution;
    FailoverEndpoint endpoint;
    int rank;
  };
  // NETWORK first: a match is worth len (1 + bonus len-1), a mismatch 0 and
  // the walk goes on.
  const std::vector<Case> cases = {
      {"close: all match", TrafficDistribution::kPreferClose, Pod("a", "c1", "net1", "r1/z1"), 5},
      {"close: other zone", TrafficDistribution::kPreferClose, Pod("a", "c1", "net1", "r1/z2"), 4},
      {"close: other region, same zone name", TrafficDistribution::kPreferClose,
       Pod("a", "c1", "net1", "r2/z1"), 3},
      {"close: other network, same zone", TrafficDistribution::kPreferClose,
       Pod("a", "c2", "net2", "r1/z1"), 2},
      {"close: other network, same region", TrafficDistribution::kPreferClose,
       Pod("a", "c2", "net2", "r1/z2"), 1},
      {"close: other network, other region", TrafficDistribution::kPreferClose,
       Pod("a", "c2", "net2", "r2/z1"), 0},
      // Upstream istiod gives PreferNetwork and PreferRegion no preference.
      {"network: same", TrafficDistribution::kPreferNetwork, Pod("a", "c1", "net1", "r2/z9"), 0},
      {"network: other", TrafficDistribution::kPreferNetwork, Pod("a", "c2", "net2", "r1/z1"), 0},
      {"region: same network and region", TrafficDistribution::kPreferRegion,
       Pod("a", "c1", "net1", "r1/z2"), 0},
      {"node: everything matches", TrafficDistribution::kPreferSameNode,
       Pod("a", "c1", "net1", "r1/z1/s1", 1, "node-1"), 9},
      {"node: other node", TrafficDistribution::kPreferSameNode,
       Pod("a", "c1", "net1", "r1/z1/s1", 1, "node-2"), 8},
      {"node: other subzone stops before node", TrafficDistribution::kPreferSameNode,
       Pod("a", "c1", "net1", "r1/z1/s2", 1, "node-1"), 7},
      {"node: other network, rest matches", TrafficDistribution::kPreferSameNode,
       Pod("a", "c2", "net2", "r1/z1/s1", 1, "node-1"), 4},
      {"unknown: no preference", TrafficDistribution::kUnknown, Pod("a", "c1", "net1", "r1/z1"), 0},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto preference = RoutingPreference(c.distribution);
    CHECK(ZtunnelRank(preference, client, c.endpoint) == c.rank);
  }
}

TEST_CASE("failoverPriority gives N - j for the first differing label", "[failover][ranking]") {
  const FailoverClient client = Client("c1", "net1", "r1/z1/s1");
  const auto client_labels = ClientTopologyLabels(client);
  const std::vector<std::string> zone_region = {kZoneLabel, kRegionLabel};
  const std::vector<std::string> region_zone = {kRegionLabel, kZoneLabel};
  const std::vector<std::string> full = {kNetworkLabel, kRegionLabel, kZoneLabel, kSubzoneLabel};
  struct Case {
    const char* name;
    std::vector<std::string> labels;
    FailoverEndpoint endpoint;
    int priority;
  };
  const std::vector<Case> cases = {
      {"[zone, region] same zone", zone_region, Pod("a", "c1", "net1", "r1/z1"), 0},
      {"[zone, region] same region, other zone", zone_region, Pod("a", "c1", "net1", "r1/z2"), 2},
      {"[zone, region] other region: equal to other zone", zone_region,
       Pod("a", "c2", "net2", "r2/z3"), 2},
      {"[region, zone] same zone", region_zone, Pod("a", "c1", "net1", "r1/z1"), 0},
      {"[region, zone] other zone", region_zone, Pod("a", "c1", "net1", "r1/z2"), 1},
      {"[region, zone] other region", region_zone, Pod("a", "c2", "net2", "r2/z3"), 2},
      {"full: all match", full, Pod("a", "c1", "net1", "r1/z1/s1"), 0},
      {"full: other subzone", full, Pod("a", "c1", "net1", "r1/z1/s2"), 1},
      {"full: other network stops the walk", full, Pod("a", "c2", "net2", "r1/z1/s1"), 4},
      {"cluster label", {kClusterLabel}, Pod("a", "c2", "net1", "r1/z1"), 1},
      {"override value: endpoints in net2 first",
       {std::string(kNetworkLabel) + "=net2"},
       Pod("a", "c2", "net2", "r2/z1"),
       0},
      {"override value: net1 now differs",
       {std::string(kNetworkLabel) + "=net2"},
       Pod("a", "c1", "net1", "r1/z1"),
       1},
      {"label the client lacks never matches", {"tier"}, Pod("a", "c1", "net1", "r1/z1"), 1},
      {"endpoint without a locality", region_zone, Pod("a", "c1", "net1", ""), 2},
      {"no labels: all priority 0", {}, Pod("a", "c2", "net2", "r2/z2"), 0},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(FailoverPriority(c.labels, client_labels, EndpointTopologyLabels(c.endpoint)) ==
          c.priority);
  }
}

TEST_CASE("failoverPriority reads arbitrary endpoint labels", "[failover][ranking]") {
  FailoverEndpoint endpoint = Pod("a", "c1", "net1", "r1/z1");
  endpoint.labels["tier"] = "primary";
  const std::vector<std::string> labels = {"tier=primary", kRegionLabel};
  const auto client = ClientTopologyLabels(Client("c1", "net1", "r1/z1"));
  CHECK(FailoverPriority(labels, client, EndpointTopologyLabels(endpoint)) == 0);
  endpoint.labels["tier"] = "secondary";
  CHECK(FailoverPriority(labels, client, EndpointTopologyLabels(endpoint)) == 2);
}

}  // namespace
}  // namespace globalsvc::failover
