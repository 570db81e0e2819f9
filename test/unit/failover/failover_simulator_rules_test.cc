// The ranking rules on topologies the guide does not show, and ztunnel's
// PreferClose cross-checked against Envoy's failoverPriority. Group lists are
// best first.

#include <catch2/catch.hpp>

#include "lib/failover/failover_simulator.h"
#include "test/unit/failover/failover_simulator_test_support.h"
#include "test/unit/failover/failover_test_topology.h"

namespace globalsvc::failover {

using mesh::FormatLocality;
using mesh::kNetworkLabel;
using mesh::kRegionLabel;
using mesh::kSubzoneLabel;
using mesh::kZoneLabel;

namespace {

using testing::Client;
using testing::Gateway;
using testing::GroupNames;
using testing::GuideClientInCluster1;
using testing::Pod;
using testing::Rule;

TEST_CASE("Cases the guide does not show", "[failover]") {
  struct Case {
    const char* name;
    FailoverClient client;
    std::vector<FailoverEndpoint> endpoints;
    std::string distribution;
    DataPlane plane;
    std::optional<DestinationRule> rule;
    Groups groups;
  };
  const std::vector<FailoverEndpoint> same_node = {
      Pod("10.0.0.1", "c1", "n1", "r1/z1/s1", 1, "node-1"),
      Pod("10.0.0.2", "c1", "n1", "r1/z1/s1", 1, "node-2"),
      Pod("10.0.0.3", "c1", "n1", "r1/z1/s2", 1, "node-3"),
      Pod("10.0.0.4", "c1", "n1", "r1/z2/s1", 1, "node-4"),
      Gateway("c2", "n2", "r2/z1", 3),
  };
  // Three clusters: c3 shares c1's network in us-east-1 (addressed endpoints),
  // c2 is a remote network in us-west-2, c4 a remote network in us-east-1.
  const std::vector<FailoverEndpoint> three_clusters = {
      Pod("10.1.0.1", "c1", "n1", "us-east-1/us-east-1a"),
      Pod("10.1.0.2", "c1", "n1", "us-east-1/us-east-1b"),
      Pod("10.3.0.1", "c3", "n1", "us-east-1/us-east-1c"),
      Gateway("c2", "n2", "us-west-2/us-west-2a", 2),
      Gateway("c4", "n4", "us-east-1/us-east-1a", 1),
  };
  const FailoverClient east_1a = Client("c1", "n1", "us-east-1/us-east-1a");
  const std::vector<Case> cases = {
      {"PreferSameNode: node, subzone, zone, then other network",
       Client("c1", "n1", "r1/z1/s1", "node-1"),
       same_node,
       "PreferSameNode",
       DataPlane::kZtunnel,
       std::nullopt,
       {{"10.0.0.1"}, {"10.0.0.2"}, {"10.0.0.3"}, {"10.0.0.4"}, {"gateway(c2)"}}},
      {"PreferClose ignores subzone and node",
       Client("c1", "n1", "r1/z1/s1", "node-1"),
       same_node,
       "PreferClose",
       DataPlane::kZtunnel,
       std::nullopt,
       {{"10.0.0.1", "10.0.0.2", "10.0.0.3"}, {"10.0.0.4"}, {"gateway(c2)"}}},
      {"subzones at L7 with [region, zone, subzone]",
       Client("c1", "n1", "r1/z1/s1"),
       same_node,
       "",
       DataPlane::kWaypoint,
       Rule({kRegionLabel, kZoneLabel, kSubzoneLabel}, true),
       {{"10.0.0.1", "10.0.0.2"}, {"10.0.0.3"}, {"10.0.0.4"}, {"gateway(c2)"}}},
      {"PreferRegion on a ServiceEntry: no preference upstream",
       east_1a,
       three_clusters,
       "PreferRegion",
       DataPlane::kZtunnel,
       std::nullopt,
       {{"10.1.0.1", "10.1.0.2", "10.3.0.1", "gateway(c2)", "gateway(c4)"}}},
      {"three clusters, PreferClose: a remote network in our region beats another region",
       east_1a,
       three_clusters,
       "PreferClose",
       DataPlane::kZtunnel,
       std::nullopt,
       {{"10.1.0.1"}, {"10.1.0.2", "10.3.0.1"}, {"gateway(c4)"}, {"gateway(c2)"}}},
      {"three clusters, PreferNetwork on a ServiceEntry: no preference upstream",
       east_1a,
       three_clusters,
       "PreferNetwork",
       DataPlane::kZtunnel,
       std::nullopt,
       {{"10.1.0.1", "10.1.0.2", "10.3.0.1", "gateway(c2)", "gateway(c4)"}}},
      {"three clusters at L7 with [network, region, zone]: a network mismatch stops Envoy",
       east_1a,
       three_clusters,
       "",
       DataPlane::kWaypoint,
       Rule({kNetworkLabel, kRegionLabel, kZoneLabel}, true),
       {{"10.1.0.1"}, {"10.1.0.2", "10.3.0.1"}, {"gateway(c2)", "gateway(c4)"}}},
      {"unknown traffic distribution: no preference",
       east_1a,
       three_clusters,
       "PreferMoon",
       DataPlane::kZtunnel,
       std::nullopt,
       {{"10.1.0.1", "10.1.0.2", "10.3.0.1", "gateway(c2)", "gateway(c4)"}}},
      {"outlierDetection alone: Istio's default locality failover",
       east_1a,
       three_clusters,
       "",
       DataPlane::kWaypoint,
       [] {
         DestinationRule rule = Rule({}, true);
         rule.has_locality_lb_setting = false;
         return rule;
       }(),
       {{"10.1.0.1", "gateway(c4)"}, {"10.1.0.2", "10.3.0.1"}, {"gateway(c2)"}}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    SimulationInput input;
    input.client = c.client;
    input.endpoints = c.endpoints;
    input.traffic_distribution = c.distribution;
    input.data_plane = c.plane;
    input.destination_rule = c.rule;
    // The ranking rules alone; upstream's cut at the network is tested above.
    input.waypoint_reaches_other_networks = true;
    CHECK(GroupNames(Explain(input)) == c.groups);
  }
}

TEST_CASE("PreferClose and failoverPriority [region, zone] agree on the guide topology",
          "[failover][cross-check]") {
  // Networks follow regions in the guide, so ztunnel's PreferClose and Envoy's
  // [region, zone] must give the same groups in the same order, for every
  // client zone and after every single failure.
  const std::vector<FailoverClient> clients = {
      GuideClientInCluster1(), Client("cluster1", "cluster1-network", "us-east-1/us-east-1b")};
  const std::vector<std::vector<Failure>> failures = {{},
                                                      Down({"zone=us-east-1a"}),
                                                      Down({"zone=us-east-1b"}),
                                                      Down({"cluster=cluster1"}),
                                                      Down({"endpoint=10.245.0.7"})};
  for (const auto& client : clients) {
    for (const auto& down : failures) {
      SimulationInput ztunnel = GuideInput("PreferClose");
      ztunnel.client = client;
      ztunnel.failures = down;
      SimulationInput waypoint = ztunnel;
      waypoint.data_plane = DataPlane::kWaypoint;
      waypoint.waypoint_reaches_other_networks = true;  // the ranking rules alone
      waypoint.destination_rule = Rule({kRegionLabel, kZoneLabel}, true);
      INFO(FormatLocality(client.locality) << " down " << down.size());
      CHECK(GroupNames(Explain(ztunnel)) == GroupNames(Explain(waypoint)));
    }
  }
}

TEST_CASE("PreferClose and [network, region, zone] differ only across networks",
          "[failover][cross-check]") {
  // ztunnel keeps ranking locality after a network mismatch; Envoy stops at
  // the first differing label. Same-network endpoints order identically.
  const FailoverClient client = Client("c1", "n1", "r1/z1");
  std::vector<FailoverEndpoint> same_network;
  int next = 0;
  for (const char* locality : {"r1/z1", "r1/z2", "r2/z1", "r2/z3"}) {
    same_network.push_back(Pod("10.0.0." + std::to_string(++next), "c1", "n1", locality));
  }
  SimulationInput ztunnel;
  ztunnel.client = client;
  ztunnel.endpoints = same_network;
  ztunnel.traffic_distribution = "PreferClose";
  SimulationInput waypoint = ztunnel;
  waypoint.data_plane = DataPlane::kWaypoint;
  waypoint.waypoint_reaches_other_networks = true;  // the ranking rules alone
  waypoint.destination_rule = Rule({kNetworkLabel, kRegionLabel, kZoneLabel}, true);
  CHECK(GroupNames(Explain(ztunnel)) == GroupNames(Explain(waypoint)));

  ztunnel.endpoints = {Gateway("c2", "n2", "r1/z1", 1), Gateway("c3", "n3", "r2/z1", 1)};
  waypoint.endpoints = ztunnel.endpoints;
  CHECK(GroupNames(Explain(ztunnel)) == Groups{{"gateway(c2)"}, {"gateway(c3)"}});
  CHECK(GroupNames(Explain(waypoint)) == Groups{{"gateway(c2)", "gateway(c3)"}});
}

}  // namespace
}  // namespace globalsvc::failover
