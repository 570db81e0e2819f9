// The endpoints of a planned ServiceEntry: readiness, gateways for other
// networks, locality, port maps and which addresses are kept.

#include <algorithm>
#include <catch2/catch.hpp>

#include "lib/mesh/planner.h"
#include "lib/mesh/service_entry.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using namespace testing;  // the test world's builders

TEST_CASE("Local endpoints: ready pods with node locality, network and cluster label",
          "[planner][endpoints]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("httpbin", "in-ambient"));
  Endpoint not_ready = ReadyEndpoint("10.244.1.9", "node-2");
  not_ready.conditions.ready = false;
  Endpoint unset = ReadyEndpoint("10.244.1.8", "node-2");
  unset.conditions.ready.reset();  // Kubernetes: unset means ready
  world.cluster1.UpsertEndpointSlice(Slice(
      "httpbin", "in-ambient", "s1", {ReadyEndpoint("10.244.0.5", "node-1"), not_ready, unset}));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(entry);
  const std::vector<ServiceEntryEndpoint> expected = {
      {"10.244.0.5", "cluster1-network", "us-east-1/us-east-1a", 0, "cluster1", {{"http", 8080}}},
      {"10.244.1.8", "cluster1-network", "us-east-1/us-east-1b", 0, "cluster1", {{"http", 8080}}},
  };
  CHECK(entry->endpoints == expected);
  CHECK(diagnostics.empty());
}

TEST_CASE("Terminating endpoints are used only when nothing is ready anywhere",
          "[planner][endpoints]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("httpbin", "in-ambient"));
  Endpoint draining = ReadyEndpoint("10.244.0.5", "node-1");
  draining.conditions = {false, true, true};  // serving, terminating
  Endpoint gone = ReadyEndpoint("10.244.0.6", "node-1");
  gone.conditions = {false, false, true};  // neither ready nor serving
  world.cluster1.UpsertEndpointSlice(Slice("httpbin", "in-ambient", "s1", {draining, gone}));

  SECTION("fallback when no cluster has a ready endpoint") {
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
    REQUIRE(entry);
    REQUIRE(entry->endpoints.size() == 1);
    CHECK(entry->endpoints[0].address == "10.244.0.5");
  }
  SECTION("ignored while a remote cluster has ready endpoints") {
    world.cluster2.UpsertService(GlobalService("httpbin", "in-ambient"));
    world.cluster2.UpsertEndpointSlice(
        Slice("httpbin", "in-ambient", "s1", {ReadyEndpoint("10.245.0.7", "node-1")}));
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
    REQUIRE(entry);
    REQUIRE(entry->endpoints.size() == 1);
    CHECK(entry->endpoints[0].cluster == "cluster2");
  }
}

TEST_CASE("Remote endpoints on another network aggregate behind the gateway",
          "[planner][endpoints]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster2.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster2.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1",
            {ReadyEndpoint("10.245.0.7", "node-1"), ReadyEndpoint("10.245.1.4", "node-2")}));
  world.cluster2.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s2", {ReadyEndpoint("10.245.1.5", "node-2")}));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(entry);
  const std::vector<ServiceEntryEndpoint> expected = {
      {"", "cluster2-network", "us-west-2/us-west-2a", 3, "cluster2", {}},
  };
  CHECK(entry->endpoints == expected);
}

TEST_CASE("A remote cluster with zero ready endpoints contributes nothing",
          "[planner][endpoints]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster2.UpsertService(GlobalService("httpbin", "in-ambient"));
  Endpoint down = ReadyEndpoint("10.245.0.7", "node-1");
  down.conditions.ready = false;
  world.cluster2.UpsertEndpointSlice(Slice("httpbin", "in-ambient", "s1", {down}));
  world.cluster1.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1", {ReadyEndpoint("10.244.0.5", "node-1")}));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(entry);
  REQUIRE(entry->endpoints.size() == 1);
  CHECK(entry->endpoints[0].cluster == "cluster1");
}

TEST_CASE("Same-network remote clusters contribute pods directly", "[planner][endpoints]") {
  ClusterState east{"east", "flat"};
  ClusterState west{"west", "flat"};
  west.UpsertNode({"w1", "us-west-2", "us-west-2a", "rack7"});
  west.UpsertService(GlobalService("ns", "svc"));
  west.UpsertEndpointSlice(Slice("ns", "svc", "s", {ReadyEndpoint("10.1.0.1", "w1")}));
  west.UpsertGateway({"gw", "flat", "us-west-2", "us-west-2a", ""});  // not used: same network
  Diagnostics diagnostics;
  auto entry = PlanFor({&east, &west}, "east", "ns", "svc", diagnostics);
  REQUIRE(entry);
  const std::vector<ServiceEntryEndpoint> expected = {
      {"10.1.0.1", "flat", "us-west-2/us-west-2a/rack7", 0, "west", {{"http", 8080}}}};
  CHECK(entry->endpoints == expected);
}

TEST_CASE("Remote network without a gateway: endpoints unreachable, reported",
          "[planner][endpoints]") {
  GuideWorld world;
  world.cluster2.RemoveGateway("istio-eastwestgateway");
  world.cluster2.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster2.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1", {ReadyEndpoint("10.245.0.7", "node-1")}));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(entry);
  CHECK(entry->endpoints.empty());
  CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kNoGateway));
}

TEST_CASE("Several gateways: each endpoint goes behind its zone's gateway",
          "[planner][endpoints]") {
  GuideWorld world;
  world.cluster2.UpsertGateway({"ewgw-b", "cluster2-network", "us-west-2", "us-west-2b", ""});
  world.cluster2.UpsertNode({"node-3", "us-west-2", "us-west-2c", ""});
  world.cluster2.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster2.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1",
            {ReadyEndpoint("10.245.0.7", "node-1"), ReadyEndpoint("10.245.1.4", "node-2"),
             ReadyEndpoint("10.245.1.5", "node-2"), ReadyEndpoint("10.245.2.1", "node-3")}));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(entry);
  // us-west-2c has no gateway: its pod goes to the first gateway by name (ewgw-b).
  const std::vector<ServiceEntryEndpoint> expected = {
      {"", "cluster2-network", "us-west-2/us-west-2a", 1, "cluster2", {}},
      {"", "cluster2-network", "us-west-2/us-west-2b", 3, "cluster2", {}},
  };
  CHECK(entry->endpoints == expected);
}

TEST_CASE("Gateways that read alike give one endpoint with their summed weight",
          "[planner][endpoints]") {
  GuideWorld world;
  // Neither gateway has a region, so both have no locality: two endpoints
  // would be the same workload to istiod (and the same WorkloadEntry name).
  world.cluster2.RemoveGateway("istio-eastwestgateway");
  world.cluster2.UpsertGateway({"ewgw-a", "cluster2-network", "", "", ""});
  world.cluster2.UpsertGateway({"ewgw-b", "cluster2-network", "", "us-west-2a", ""});
  world.cluster2.UpsertNode({"node-3", "", "us-west-2a", ""});
  world.cluster2.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster2.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1",
            {ReadyEndpoint("10.245.0.7", "node-3"), ReadyEndpoint("10.245.1.4", "", "mars-1a")}));
  Diagnostics diagnostics;  // node-3's pod goes behind ewgw-b, the other behind ewgw-a
  auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(entry);
  const std::vector<ServiceEntryEndpoint> expected = {
      {"", "cluster2-network", "", 2, "cluster2", {}},
  };
  CHECK(entry->endpoints == expected);
  CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kMissingLocality));
}

TEST_CASE("Locality falls back to the slice's zone and the zone's region", "[planner][endpoints]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("ns", "svc"));
  world.cluster1.UpsertEndpointSlice(
      Slice("ns", "svc", "s",
            {ReadyEndpoint("10.244.0.1", "unknown-node", "us-east-1b"),
             ReadyEndpoint("10.244.0.2", "", "mars-1a"), ReadyEndpoint("10.244.0.3", "", "")}));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "ns", "svc", diagnostics);
  REQUIRE(entry);
  REQUIRE(entry->endpoints.size() == 3);
  CHECK(entry->endpoints[0].locality == "us-east-1/us-east-1b");
  CHECK(entry->endpoints[1].locality.empty());
  CHECK(entry->endpoints[2].locality.empty());
  REQUIRE(HasDiagnostic(diagnostics, DiagnosticCode::kMissingLocality));
  CHECK_THAT(diagnostics.back().message, Catch::StartsWith("2 endpoint(s)"));
}

TEST_CASE("Endpoint port maps follow each cluster's own target ports", "[planner][endpoints]") {
  ClusterState a{"a", "n"};
  ClusterState b{"b", "n"};
  a.UpsertService(GlobalService("ns", "svc", {{"http", 80, "TCP", "", 8080}}, 1));
  b.UpsertService(GlobalService("ns", "svc", {{"http", 80, "TCP", "", 9090}}, 2));
  a.UpsertEndpointSlice(
      Slice("ns", "svc", "s", {ReadyEndpoint("10.0.0.1", "")}, {{"http", 8080, "TCP"}}));
  b.UpsertEndpointSlice(
      Slice("ns", "svc", "s", {ReadyEndpoint("10.0.1.1", "")}, {{"http", 9090, "TCP"}}));
  Diagnostics diagnostics;
  auto entry = PlanFor({&a, &b}, "a", "ns", "svc", diagnostics);
  REQUIRE(entry);
  REQUIRE(entry->endpoints.size() == 2);
  CHECK(entry->endpoints[0].ports ==
        std::vector<std::pair<std::string, std::int32_t>>{{"http", 8080}});
  CHECK(entry->endpoints[1].ports ==
        std::vector<std::pair<std::string, std::int32_t>>{{"http", 9090}});
  CHECK_FALSE(HasDiagnostic(diagnostics, DiagnosticCode::kPortConflict));
}

TEST_CASE("Addresses: duplicates once, invalid reported, IPv6 canonical, FQDN skipped",
          "[planner][endpoints]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("ns", "svc"));

  SECTION("an address in two slices appears once") {
    world.cluster1.UpsertEndpointSlice(
        Slice("ns", "svc", "a", {ReadyEndpoint("10.244.0.5", "node-1")}));
    world.cluster1.UpsertEndpointSlice(
        Slice("ns", "svc", "b", {ReadyEndpoint("10.244.0.5", "node-1")}));
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "ns", "svc", diagnostics);
    REQUIRE(entry);
    CHECK(entry->endpoints.size() == 1);
  }
  SECTION("invalid addresses are skipped with a warning, the rest kept") {
    world.cluster1.UpsertEndpointSlice(
        Slice("ns", "svc", "a",
              {ReadyEndpoint("10.244.0.5", "node-1"), ReadyEndpoint("10.244.0.999", "node-1"),
               ReadyEndpoint("fe80::1", "node-1"), ReadyEndpoint("", "node-1")}));
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "ns", "svc", diagnostics);
    REQUIRE(entry);
    REQUIRE(entry->endpoints.size() == 1);
    CHECK(entry->endpoints[0].address == "10.244.0.5");
    REQUIRE(HasDiagnostic(diagnostics, DiagnosticCode::kInvalidAddress));
    CHECK_THAT(diagnostics.back().message, Catch::StartsWith("3 endpoint address(es)"));
  }
  SECTION("loopback, link-local, unspecified and multicast addresses are refused") {
    world.cluster1.UpsertEndpointSlice(
        Slice("ns", "svc", "a",
              {ReadyEndpoint("10.244.0.5", "node-1"), ReadyEndpoint("127.0.0.1", "node-1"),
               ReadyEndpoint("169.254.169.254", "node-1"), ReadyEndpoint("0.0.0.0", "node-1"),
               ReadyEndpoint("224.0.0.1", "node-1"), ReadyEndpoint("255.255.255.255", "node-1")}));
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "ns", "svc", diagnostics);
    REQUIRE(entry);
    REQUIRE(entry->endpoints.size() == 1);
    CHECK(entry->endpoints[0].address == "10.244.0.5");
    REQUIRE(HasDiagnostic(diagnostics, DiagnosticCode::kRefusedAddress));
    CHECK_THAT(diagnostics.back().message,
               Catch::StartsWith("5 endpoint address(es) are loopback") &&
                   Catch::Contains("127.0.0.1, 169.254.169.254, 0.0.0.0, ..."));
  }
  SECTION("refused IPv6 addresses, including IPv4-mapped ones") {
    world.cluster1.UpsertEndpointSlice(
        Slice("ns", "svc", "v6",
              {ReadyEndpoint("fd00::5", "node-1"), ReadyEndpoint("::1", "node-1"),
               ReadyEndpoint("::", "node-1"), ReadyEndpoint("fe80::1", "node-1"),
               ReadyEndpoint("ff02::1", "node-1"), ReadyEndpoint("::ffff:127.0.0.1", "node-1"),
               ReadyEndpoint("::ffff:10.1.2.3", "node-1")},
              {{"http", 8080, "TCP"}}, AddressType::kIPv6));
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "ns", "svc", diagnostics);
    REQUIRE(entry);
    std::vector<std::string> kept;
    for (const auto& endpoint : entry->endpoints)
      kept.push_back(endpoint.address);
    std::sort(kept.begin(), kept.end());
    CHECK(kept == std::vector<std::string>{"::ffff:10.1.2.3", "fd00::5"});
    CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kRefusedAddress));
  }
  SECTION("IPv6 addresses are written in canonical form") {
    world.cluster1.UpsertEndpointSlice(Slice("ns", "svc", "v6",
                                             {ReadyEndpoint("FD00:0:0:0::0A", "node-1")},
                                             {{"http", 8080, "TCP"}}, AddressType::kIPv6));
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "ns", "svc", diagnostics);
    REQUIRE(entry);
    REQUIRE(entry->endpoints.size() == 1);
    CHECK(entry->endpoints[0].address == "fd00::a");
  }
  SECTION("dual stack counts each pod once, by its IPv4 address") {
    world.cluster1.UpsertEndpointSlice(
        Slice("ns", "svc", "v4", {ReadyEndpoint("10.244.0.5", "node-1")}));
    world.cluster1.UpsertEndpointSlice(Slice("ns", "svc", "v6",
                                             {ReadyEndpoint("fd00::5", "node-1")},
                                             {{"http", 8080, "TCP"}}, AddressType::kIPv6));
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "ns", "svc", diagnostics);
    REQUIRE(entry);
    REQUIRE(entry->endpoints.size() == 1);
    CHECK(entry->endpoints[0].address == "10.244.0.5");
  }
  SECTION("FQDN slices are skipped with a warning") {
    world.cluster1.UpsertEndpointSlice(Slice("ns", "svc", "f",
                                             {ReadyEndpoint("db.example.com", "")},
                                             {{"http", 8080, "TCP"}}, AddressType::kFQDN));
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "ns", "svc", diagnostics);
    REQUIRE(entry);
    CHECK(entry->endpoints.empty());
    CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kUnsupportedAddressType));
  }
}

}  // namespace
}  // namespace globalsvc::mesh
