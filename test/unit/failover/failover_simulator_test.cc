// The guide's outcomes, and cases it does not show, as the simulator computes
// them. Group lists are best first; only the first group takes requests.

#include "lib/failover/failover_simulator.h"

#include <catch2/catch.hpp>
#include <numeric>

#include "lib/failover/failover_sample.h"
#include "test/unit/failover/failover_test_topology.h"

namespace globalsvc::failover {

using mesh::FormatLocality;
using mesh::kNetworkLabel;
using mesh::kRegionLabel;
using mesh::kSubzoneLabel;
using mesh::kZoneLabel;
using mesh::WrittenTrafficDistribution;

namespace {

using testing::Client;
using testing::Gateway;
using testing::GroupNames;
using testing::GuideClientInCluster1;
using testing::GuideEndpointsSeenFromCluster1;
using testing::Pod;
using testing::Rule;

using Groups = std::vector<std::vector<std::string>>;

std::vector<Failure> Down(std::initializer_list<const char*> specs) {
  std::vector<Failure> failures;
  for (const char* spec : specs)
    failures.push_back(ParseFailure(spec).value());
  return failures;
}

SimulationInput GuideInput(std::string distribution, DataPlane plane = DataPlane::kZtunnel) {
  SimulationInput input;
  input.client = GuideClientInCluster1();
  input.endpoints = GuideEndpointsSeenFromCluster1();
  input.traffic_distribution = std::move(distribution);
  input.data_plane = plane;
  return input;
}

TEST_CASE("The guide's outcomes", "[failover][guide]") {
  const std::vector<std::string> zone_region = {kZoneLabel, kRegionLabel};
  const std::vector<std::string> region_zone = {kRegionLabel, kZoneLabel};
  struct Case {
    const char* name;
    std::string distribution;
    DataPlane plane;
    std::optional<DestinationRule> rule;
    std::vector<Failure> failures;
    Groups groups;
  };
  const std::vector<Case> cases = {
      // Upstream istiod knows no PreferNetwork; globalsvc writes PreferClose
      // for it, which stays in cluster1 (by zone) and fails over to cluster2.
      {"step 3: PreferNetwork, written as PreferClose, stays in cluster1",
       WrittenTrafficDistribution("PreferNetwork"),
       DataPlane::kZtunnel,
       std::nullopt,
       {},
       {{"10.244.0.5"}, {"10.244.1.8"}, {"gateway(cluster2)"}}},
      {"step 3: PreferNetwork, written as PreferClose, fails over to cluster2",
       WrittenTrafficDistribution("PreferNetwork"),
       DataPlane::kZtunnel,
       std::nullopt,
       Down({"cluster=cluster1"}),
       {{"gateway(cluster2)"}}},
      {"a ServiceEntry that says PreferNetwork gets no preference upstream: every cluster",
       "PreferNetwork",
       DataPlane::kZtunnel,
       std::nullopt,
       {},
       {{"10.244.0.5", "10.244.1.8", "gateway(cluster2)"}}},
      {"step 4: PreferClose prefers us-east-1a, then us-east-1b, then us-west-2",
       "PreferClose",
       DataPlane::kZtunnel,
       std::nullopt,
       {},
       {{"10.244.0.5"}, {"10.244.1.8"}, {"gateway(cluster2)"}}},
      {"step 4: zone us-east-1a down goes to us-east-1b",
       "PreferClose",
       DataPlane::kZtunnel,
       std::nullopt,
       Down({"endpoint=10.244.0.5"}),
       {{"10.244.1.8"}, {"gateway(cluster2)"}}},
      {"step 4: region down goes to us-west-2",
       "PreferClose",
       DataPlane::kZtunnel,
       std::nullopt,
       Down({"region=us-east-1"}),
       {{"gateway(cluster2)"}}},
      // Upstream istiod hands the waypoint cluster1's endpoints only: the
      // other network's are left out (see the case of its own below).
      {"step 5: waypoint enforces PreferClose, in cluster1's network",
       "PreferClose",
       DataPlane::kWaypoint,
       std::nullopt,
       {},
       {{"10.244.0.5"}, {"10.244.1.8"}}},
      {"step 6: [zone, region] with cluster1 down: the waypoint has nothing left",
       "PreferClose",
       DataPlane::kWaypoint,
       Rule(zone_region, true),
       Down({"cluster=cluster1"}),
       {}},
      {"step 6: [zone, region] ranks us-east-1a, then us-east-1b",
       "PreferClose",
       DataPlane::kWaypoint,
       Rule(zone_region, true),
       {},
       {{"10.244.0.5"}, {"10.244.1.8"}}},
      {"[region, zone] fails over zone, then region",
       "PreferClose",
       DataPlane::kWaypoint,
       Rule(region_zone, true),
       {},
       {{"10.244.0.5"}, {"10.244.1.8"}}},
      {"failoverPriority without outlierDetection: no failover",
       "PreferClose",
       DataPlane::kWaypoint,
       Rule(zone_region, false),
       {},
       {{"10.244.0.5", "10.244.1.8"}}},
      {"ztunnel ignores the DestinationRule",
       "PreferClose",
       DataPlane::kZtunnel,
       Rule(zone_region, true),
       {},
       {{"10.244.0.5"}, {"10.244.1.8"}, {"gateway(cluster2)"}}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    SimulationInput input = GuideInput(c.distribution, c.plane);
    input.destination_rule = c.rule;
    input.failures = c.failures;
    const Explanation explanation = Explain(input);
    CHECK(GroupNames(explanation) == c.groups);
  }
}

TEST_CASE("Upstream istiod gives a waypoint no endpoint on another network", "[failover][guide]") {
  SimulationInput input = GuideInput("PreferClose", DataPlane::kWaypoint);
  input.destination_rule = Rule({kZoneLabel, kRegionLabel}, true);
  const Explanation explanation = Explain(input);
  CHECK(GroupNames(explanation) == Groups{{"10.244.0.5"}, {"10.244.1.8"}});
  REQUIRE(explanation.removed.size() == 1);
  CHECK(EndpointDisplayName(explanation.removed[0].endpoint) == "gateway(cluster2)");
  CHECK(explanation.removed[0].reason ==
        "on network cluster2-network: upstream istiod gives a waypoint none");
  bool noted = false;
  for (const auto& note : explanation.notes)
    noted = noted || note.find("gateway(cluster2): on another network") == 0;
  CHECK(noted);
  // ztunnel reaches it; so does a waypoint for an endpoint Istio's mTLS is
  // assumed of (labelled security.istio.io/tlsMode=istio).
  CHECK(GroupNames(Explain(GuideInput("PreferClose"))).size() == 3);
  for (auto& endpoint : input.endpoints) {
    if (endpoint.is_gateway()) endpoint.labels["security.istio.io/tlsMode"] = "istio";
  }
  CHECK(GroupNames(Explain(input)) == Groups{{"10.244.0.5"}, {"10.244.1.8", "gateway(cluster2)"}});
}

TEST_CASE(
    "Step 6 with a control plane that gives waypoints other networks: cluster1 down, the "
    "waypoint sends to us-west-2a and us-west-2b",
    "[failover][guide]") {
  SimulationInput input = GuideInput("PreferClose", DataPlane::kWaypoint);
  input.waypoint_reaches_other_networks = true;
  input.destination_rule = Rule({kZoneLabel, kRegionLabel}, true);
  input.failures = Down({"cluster=cluster1"});
  const Explanation explanation = Explain(input);
  REQUIRE(explanation.groups.size() == 1);
  const RankedEndpoint& gateway = explanation.groups[0].endpoints.at(0);
  CHECK(gateway.share == Approx(1.0));
  REQUIRE(gateway.endpoint.behind.size() == 2);
  CHECK(gateway.endpoint.behind[0].locality.zone == "us-west-2a");
  CHECK(gateway.endpoint.behind[1].locality.zone == "us-west-2b");
  CHECK(gateway.behind_share == std::vector<double>{0.5, 0.5});
  CHECK(explanation.removed.size() == 2);
  CHECK(explanation.policy.kind == RankingKind::kEnvoyPriority);

  const auto sample = SampleRequests(explanation, 1000, 7);
  REQUIRE(sample.size() == 2);
  CHECK(sample[0].endpoint == "10.245.0.7");
  CHECK(sample[1].endpoint == "10.245.1.4");
  CHECK(sample[0].via_gateway);
  CHECK(sample[0].count + sample[1].count == 1000);
  CHECK(sample[0].count == Approx(500).margin(60));
}

TEST_CASE("Failures behind a gateway shrink or remove it", "[failover]") {
  SimulationInput input = GuideInput("PreferNetwork");
  input.failures = Down({"cluster=cluster1", "endpoint=10.245.1.4"});
  Explanation explanation = Explain(input);
  REQUIRE(GroupNames(explanation) == Groups{{"gateway(cluster2)"}});
  CHECK(explanation.groups[0].endpoints[0].endpoint.weight == 1);

  input.failures = Down({"cluster=cluster1", "endpoint=10.245.1.4", "endpoint=10.245.0.7"});
  explanation = Explain(input);
  CHECK(explanation.groups.empty());
  CHECK(explanation.notes.back() == "no endpoint is left: requests fail");

  // The gateway itself sits in us-west-2a: that zone failing takes the path down.
  input.failures = Down({"zone=us-west-2a"});
  explanation = Explain(input);
  CHECK(GroupNames(explanation) == Groups{{"10.244.0.5", "10.244.1.8"}});

  input.failures = Down({"endpoint=10.9.9.9"});
  explanation = Explain(input);
  CHECK(explanation.notes.back() == "no endpoint has address 10.9.9.9");
}

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

TEST_CASE("Shares follow weights and sum to 100 %", "[failover][weights]") {
  struct Case {
    const char* name;
    std::string distribution;
    std::vector<Failure> failures;
    std::vector<double> shares;  // of the first group, in endpoint order
  };
  const std::vector<Case> cases = {
      {"no preference: 1 + 1 + gateway of 2", "", {}, {0.25, 0.25, 0.5}},
      {"PreferNetwork, as upstream reads it: no preference",
       "PreferNetwork",
       {},
       {0.25, 0.25, 0.5}},
      {"PreferNetwork as globalsvc writes it: the client's zone",
       WrittenTrafficDistribution("PreferNetwork"),
       {},
       {1.0}},
      {"one pod left behind the gateway: weight 1",
       "",
       Down({"endpoint=10.245.0.7"}),
       {1.0 / 3, 1.0 / 3, 1.0 / 3}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    SimulationInput input = GuideInput(c.distribution);
    input.failures = c.failures;
    const Explanation explanation = Explain(input);
    std::vector<double> shares;
    for (const auto& ranked : explanation.groups.at(0).endpoints)
      shares.push_back(ranked.share);
    REQUIRE(shares.size() == c.shares.size());
    for (std::size_t i = 0; i < shares.size(); ++i)
      CHECK(shares[i] == Approx(c.shares[i]));
    CHECK(std::accumulate(shares.begin(), shares.end(), 0.0) == Approx(1.0));
    for (std::size_t g = 1; g < explanation.groups.size(); ++g) {
      for (const auto& ranked : explanation.groups[g].endpoints)
        CHECK(ranked.share == 0.0);
    }
  }

  SECTION("explicit weights 3:1 at the same rank") {
    SimulationInput input;
    input.client = Client("c1", "n1", "r1/z1");
    input.endpoints = {Pod("a", "c1", "n1", "r1/z1", 3), Pod("b", "c1", "n1", "r1/z1", 1)};
    input.traffic_distribution = "PreferClose";
    const Explanation explanation = Explain(input);
    CHECK(explanation.groups.at(0).endpoints.at(0).share == Approx(0.75));
    const auto sample = SampleRequests(explanation, 4000, 42);
    REQUIRE(sample.size() == 2);
    CHECK(sample[0].count == Approx(3000).margin(150));
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

TEST_CASE("The seeded sample is reproducible", "[failover][sample]") {
  const Explanation explanation = Explain(GuideInput(""));
  const auto first = SampleRequests(explanation, 100, 1234);
  const auto again = SampleRequests(explanation, 100, 1234);
  REQUIRE(first.size() == again.size());
  int total = 0;
  for (std::size_t i = 0; i < first.size(); ++i) {
    CHECK(first[i].endpoint == again[i].endpoint);
    CHECK(first[i].count == again[i].count);
    total += first[i].count;
  }
  CHECK(total == 100);
  CHECK(std::is_sorted(first.begin(), first.end(),
                       [](const auto& a, const auto& b) { return a.endpoint < b.endpoint; }));
  CHECK(SampleRequests(explanation, 0, 1).empty());
}

TEST_CASE("Failure specs parse", "[failover]") {
  CHECK(FormatFailure(ParseFailure("cluster=cluster1").value()) == "cluster=cluster1");
  CHECK(ParseFailure("zone=us-east-1a").value().kind == FailureKind::kZone);
  CHECK(ParseFailure("region=us-west-2").value().kind == FailureKind::kRegion);
  CHECK(ParseFailure("endpoint=10.0.0.1").value().value == "10.0.0.1");
  CHECK_FALSE(ParseFailure("node=x").ok());
  CHECK_FALSE(ParseFailure("zone=").ok());
  CHECK_FALSE(ParseFailure("cluster1").ok());
}

}  // namespace
}  // namespace globalsvc::failover
