// The guide's outcomes as the simulator computes them, and the failure specs.
// Group lists are best first; only the first group takes requests.

#include "lib/failover/failover_simulator.h"

#include <catch2/catch.hpp>

#include "lib/failover/failover_sample.h"
#include "test/unit/failover/failover_simulator_test_support.h"
#include "test/unit/failover/failover_test_topology.h"

namespace globalsvc::failover {

using mesh::kRegionLabel;
using mesh::kZoneLabel;
using mesh::WrittenTrafficDistribution;

namespace {

using testing::GroupNames;
using testing::Rule;

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
