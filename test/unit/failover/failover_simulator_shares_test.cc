// How the simulator shares requests within the first group by weight, and its
// seeded, reproducible sample of requests.

#include <catch2/catch.hpp>
#include <numeric>

#include "lib/failover/failover_sample.h"
#include "lib/failover/failover_simulator.h"
#include "test/unit/failover/failover_simulator_test_support.h"
#include "test/unit/failover/failover_test_topology.h"

namespace globalsvc::failover {

using mesh::WrittenTrafficDistribution;

namespace {

using testing::Client;
using testing::Pod;

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

}  // namespace
}  // namespace globalsvc::failover
