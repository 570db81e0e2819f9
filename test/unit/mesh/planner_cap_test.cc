// Istio's endpoint cap: over it, clusters share it with max-min fairness (the
// local cluster first) and each share goes round-robin across localities.

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "lib/mesh/planner.h"
#include "lib/mesh/service_entry.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using namespace testing;  // the test world's builders

TEST_CASE("Over the endpoint cap: nothing silent, every locality keeps capacity",
          "[planner][cap]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("ns", "big"));
  std::vector<Endpoint> zone_a;
  for (int i = 0; i < 5000; ++i) {
    zone_a.push_back(ReadyEndpoint(
        "10.244." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1), "node-1"));
  }
  world.cluster1.UpsertEndpointSlice(Slice("ns", "big", "a", zone_a));
  world.cluster1.UpsertEndpointSlice(
      Slice("ns", "big", "b", {ReadyEndpoint("10.250.0.1", "node-2")}));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "ns", "big", diagnostics);
  REQUIRE(entry);
  CHECK(entry->endpoints.size() == kMaxServiceEntryEndpoints);
  CHECK(std::count_if(entry->endpoints.begin(), entry->endpoints.end(),
                      [](const auto& e) { return e.locality == "us-east-1/us-east-1b"; }) == 1);
  REQUIRE(HasDiagnostic(diagnostics, DiagnosticCode::kEndpointCapExceeded));
  CHECK(HasErrors(diagnostics));
  CHECK_THAT(diagnostics.back().message, Catch::Contains("5001 endpoints"));
  CHECK_THAT(diagnostics.back().message, Catch::Contains("905 were left out"));
  CHECK(std::is_sorted(entry->endpoints.begin(), entry->endpoints.end(),
                       [](const auto& x, const auto& y) { return x.address < y.address; }));
}

TEST_CASE("Exactly at the cap nothing is dropped", "[planner][cap]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("ns", "big"));
  std::vector<Endpoint> endpoints;
  for (std::size_t i = 0; i < kMaxServiceEntryEndpoints; ++i) {
    endpoints.push_back(ReadyEndpoint(
        "10.244." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1), "node-1"));
  }
  world.cluster1.UpsertEndpointSlice(Slice("ns", "big", "a", endpoints));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "ns", "big", diagnostics);
  REQUIRE(entry);
  CHECK(entry->endpoints.size() == kMaxServiceEntryEndpoints);
  CHECK(diagnostics.empty());
}

// A unique address per (cluster number, index).
std::string AddressOf(int cluster, std::size_t i) {
  return "10." + std::to_string(cluster) + "." + std::to_string(i / 250) + "." +
         std::to_string(i % 250 + 1);
}

// `count` ready endpoints of ns/big in `cluster`, spread over `zones` zones of
// one region (one node per zone), in one slice.
void AddEndpoints(ClusterState& cluster, int number, std::size_t count, std::size_t zones) {
  const std::string region = cluster.name() + "-region";
  for (std::size_t z = 0; z < zones; ++z) {
    cluster.UpsertNode(
        {"node-" + std::to_string(z), region, region + "-z" + std::to_string(z), ""});
  }
  std::vector<Endpoint> endpoints;
  for (std::size_t i = 0; i < count; ++i)
    endpoints.push_back(ReadyEndpoint(AddressOf(number, i), "node-" + std::to_string(i % zones)));
  cluster.UpsertEndpointSlice(Slice("ns", "big", "s", endpoints));
  cluster.UpsertService(GlobalService("ns", "big"));
}

std::map<std::string, std::size_t> CountByCluster(const ServiceEntry& entry) {
  std::map<std::string, std::size_t> counts;
  for (const auto& endpoint : entry.endpoints)
    ++counts[endpoint.cluster];
  return counts;
}

const Diagnostic* FindCapDiagnostic(const Diagnostics& diagnostics) {
  for (const auto& d : diagnostics) {
    if (d.code == DiagnosticCode::kEndpointCapExceeded) return &d;
  }
  return nullptr;
}

TEST_CASE("Over the cap, a remote with thousands of zones cannot crowd out the local cluster",
          "[planner][cap]") {
  ClusterState local{"cluster1", "shared"};
  ClusterState remote{"cluster2", "shared"};  // same network: its pods are direct endpoints
  AddEndpoints(local, 1, 100, 2);
  AddEndpoints(remote, 2, 5000, 4096);  // a zone it invents for nearly every pod
  for (const auto& order : {std::vector<const ClusterState*>{&local, &remote},
                            std::vector<const ClusterState*>{&remote, &local}}) {
    Diagnostics diagnostics;
    auto entry = PlanFor(order, "cluster1", "ns", "big", diagnostics);
    REQUIRE(entry);
    CHECK(entry->endpoints.size() == kMaxServiceEntryEndpoints);
    const auto counts = CountByCluster(*entry);
    CHECK(counts.at("cluster1") == 100);
    CHECK(counts.at("cluster2") == 3996);
    // Within the remote, round-robin across its localities: 3996 distinct ones.
    std::set<std::string> remote_localities;
    std::set<std::pair<std::string, std::string>> unique;
    for (const auto& endpoint : entry->endpoints) {
      if (endpoint.cluster == "cluster2") remote_localities.insert(endpoint.locality);
      CHECK(unique.emplace(endpoint.cluster, endpoint.address).second);
    }
    CHECK(remote_localities.size() == 3996);
    CHECK(std::is_sorted(entry->endpoints.begin(), entry->endpoints.end(), EndpointLess));
    const Diagnostic* cap = FindCapDiagnostic(diagnostics);
    REQUIRE(cap);
    CHECK(cap->severity == Severity::kError);
    CHECK(cap->object.cluster == "cluster1");
    CHECK(cap->object.kind == "ServiceEntry");
    CHECK_THAT(cap->message, Catch::Contains("5100 endpoints"));
    CHECK_THAT(cap->message, Catch::Contains("1004 were left out"));
    CHECK_THAT(cap->message, Catch::Contains("kept cluster1 100 of 100, cluster2 3996 of 5000"));
  }
}

TEST_CASE("Over the cap, clusters share it with max-min fairness", "[planner][cap]") {
  ClusterState one{"cluster1", "shared"};
  ClusterState two{"cluster2", "shared"};
  ClusterState three{"cluster3", "shared"};
  AddEndpoints(one, 1, 3000, 3);
  AddEndpoints(two, 2, 3000, 2);
  AddEndpoints(three, 3, 10, 1);
  Diagnostics diagnostics;
  auto entry = PlanFor({&one, &two, &three}, "cluster1", "ns", "big", diagnostics);
  REQUIRE(entry);
  CHECK(entry->endpoints.size() == kMaxServiceEntryEndpoints);
  const std::map<std::string, std::size_t> expected = {
      {"cluster1", 2043}, {"cluster2", 2043}, {"cluster3", 10}};
  CHECK(CountByCluster(*entry) == expected);
  // Each cluster's share is round-robin across its own localities.
  std::map<std::string, std::size_t> by_locality;
  for (const auto& endpoint : entry->endpoints)
    ++by_locality[endpoint.locality];
  CHECK(by_locality.at("cluster1-region/cluster1-region-z0") == 681);
  CHECK(by_locality.at("cluster1-region/cluster1-region-z1") == 681);
  CHECK(by_locality.at("cluster1-region/cluster1-region-z2") == 681);
  CHECK(by_locality.at("cluster2-region/cluster2-region-z0") == 1022);
  CHECK(by_locality.at("cluster2-region/cluster2-region-z1") == 1021);
  const Diagnostic* cap = FindCapDiagnostic(diagnostics);
  REQUIRE(cap);
  CHECK_THAT(
      cap->message,
      Catch::Contains("kept cluster1 2043 of 3000, cluster2 2043 of 3000, cluster3 10 of 10"));
}

TEST_CASE("Over the cap, an odd remainder goes to the local cluster first", "[planner][cap]") {
  // 4096 - 9 = 4087 for two clusters of 3000: 2043 each and one left over.
  ClusterState alpha{"alpha", "shared"};
  ClusterState mike{"mike", "shared"};
  ClusterState zulu{"zulu", "shared"};
  AddEndpoints(alpha, 1, 3000, 2);
  AddEndpoints(mike, 2, 9, 1);
  AddEndpoints(zulu, 3, 3000, 2);
  const std::vector<const ClusterState*> clusters = {&zulu, &mike, &alpha};
  SECTION("local cluster last by name") {
    Diagnostics diagnostics;
    auto entry = PlanFor(clusters, "zulu", "ns", "big", diagnostics);
    REQUIRE(entry);
    const std::map<std::string, std::size_t> expected = {
        {"alpha", 2043}, {"mike", 9}, {"zulu", 2044}};
    CHECK(CountByCluster(*entry) == expected);
  }
  SECTION("local cluster first by name") {
    Diagnostics diagnostics;
    auto entry = PlanFor(clusters, "alpha", "ns", "big", diagnostics);
    REQUIRE(entry);
    const std::map<std::string, std::size_t> expected = {
        {"alpha", 2044}, {"mike", 9}, {"zulu", 2043}};
    CHECK(CountByCluster(*entry) == expected);
  }
  SECTION("the local cluster without the service: remotes by name") {
    ClusterState local{"local", "shared"};
    Diagnostics diagnostics;
    auto entry = PlanFor({&zulu, &local, &mike, &alpha}, "local", "ns", "big", diagnostics);
    REQUIRE(entry);
    const std::map<std::string, std::size_t> expected = {
        {"alpha", 2044}, {"mike", 9}, {"zulu", 2043}};
    CHECK(CountByCluster(*entry) == expected);
  }
}

TEST_CASE("Over the cap, gateway endpoints count for their cluster", "[planner][cap]") {
  GuideWorld world;
  world.cluster2.UpsertGateway(
      {"istio-eastwestgateway-b", "cluster2-network", "us-west-2", "us-west-2b", ""});
  world.cluster1.UpsertService(GlobalService("ns", "svc"));
  world.cluster2.UpsertService(GlobalService("ns", "svc"));
  std::vector<Endpoint> local;
  for (std::size_t i = 0; i < 10; ++i)
    local.push_back(ReadyEndpoint(AddressOf(1, i), i % 2 ? "node-1" : "node-2"));
  world.cluster1.UpsertEndpointSlice(Slice("ns", "svc", "s", local));
  world.cluster2.UpsertEndpointSlice(
      Slice("ns", "svc", "s",
            {ReadyEndpoint("10.9.0.1", "node-1"), ReadyEndpoint("10.9.0.2", "node-2"),
             ReadyEndpoint("10.9.0.3", "node-2")}));
  auto clusters = world.clusters();
  PlanOptions options;
  options.target_cluster = "cluster1";
  SECTION("an equal share keeps both gateways") {
    options.max_endpoints = 4;
    Diagnostics diagnostics;
    auto entry = PlanService("ns", "svc", clusters, options, diagnostics);
    REQUIRE(entry);
    const std::map<std::string, std::size_t> expected = {{"cluster1", 2}, {"cluster2", 2}};
    CHECK(CountByCluster(*entry) == expected);
    std::uint32_t weight = 0;
    for (const auto& endpoint : entry->endpoints)
      weight += endpoint.weight;
    CHECK(weight == 3);  // both gateways, weighted by the pods they front
    const Diagnostic* cap = FindCapDiagnostic(diagnostics);
    REQUIRE(cap);
    CHECK_THAT(cap->message, Catch::Contains("kept cluster1 2 of 10, cluster2 2 of 2"));
  }
  SECTION("an odd cap gives the extra place to the local cluster") {
    options.max_endpoints = 3;
    Diagnostics diagnostics;
    auto entry = PlanService("ns", "svc", clusters, options, diagnostics);
    REQUIRE(entry);
    const std::map<std::string, std::size_t> expected = {{"cluster1", 2}, {"cluster2", 1}};
    CHECK(CountByCluster(*entry) == expected);
  }
  SECTION("a cap of one keeps a local endpoint") {
    options.max_endpoints = 1;
    Diagnostics diagnostics;
    auto entry = PlanService("ns", "svc", clusters, options, diagnostics);
    REQUIRE(entry);
    REQUIRE(entry->endpoints.size() == 1);
    CHECK(entry->endpoints[0].cluster == "cluster1");
    const Diagnostic* cap = FindCapDiagnostic(diagnostics);
    REQUIRE(cap);
    CHECK_THAT(cap->message, Catch::Contains("kept cluster1 1 of 10, cluster2 0 of 2"));
  }
}

TEST_CASE("Below the cap the fair split changes nothing", "[planner][cap]") {
  ClusterState local{"cluster1", "shared"};
  ClusterState remote{"cluster2", "shared"};
  AddEndpoints(local, 1, 100, 2);
  AddEndpoints(remote, 2, 3996, 4096);  // exactly at the cap together
  const std::vector<const ClusterState*> clusters = {&local, &remote};
  Diagnostics diagnostics;
  auto entry = PlanFor(clusters, "cluster1", "ns", "big", diagnostics);
  REQUIRE(entry);
  CHECK(entry->endpoints.size() == kMaxServiceEntryEndpoints);
  CHECK_FALSE(HasDiagnostic(diagnostics, DiagnosticCode::kEndpointCapExceeded));
  PlanOptions uncapped;
  uncapped.target_cluster = "cluster1";
  uncapped.max_endpoints = 1'000'000;
  Diagnostics uncapped_diagnostics;
  auto full = PlanService("ns", "big", clusters, uncapped, uncapped_diagnostics);
  REQUIRE(full);
  CHECK(*entry == *full);
  CHECK(diagnostics.size() == uncapped_diagnostics.size());
}

}  // namespace
}  // namespace globalsvc::mesh
