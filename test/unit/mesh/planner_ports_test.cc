// The ports of a planned ServiceEntry: TCP only, protocols, generated names, and
// conflicts between clusters, where the local definition wins.

#include <algorithm>
#include <catch2/catch.hpp>

#include "lib/mesh/planner.h"
#include "lib/mesh/service_entry.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using namespace testing;  // the test world's builders

TEST_CASE("Ports: TCP only, protocol from name or appProtocol, numeric targetPort",
          "[planner][ports]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("ns", "svc",
                                             {
                                                 {"http-web", 80, "TCP", "", 8080},
                                                 {"metrics", 9090, "TCP", "", 0},
                                                 {"dns", 53, "UDP", "", 53},
                                                 {"rpc", 7070, "TCP", "grpc", 0},
                                                 {"h2", 7443, "TCP", "kubernetes.io/h2c", 0},
                                                 {"tls-x", 443, "TCP", "", 8443},
                                             }));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "ns", "svc", diagnostics);
  REQUIRE(entry);
  const std::vector<ServiceEntryPort> expected = {
      {"http-web", 80, "HTTP", 8080}, {"tls-x", 443, "TLS", 8443}, {"rpc", 7070, "GRPC", 0},
      {"h2", 7443, "HTTP2", 0},       {"metrics", 9090, "TCP", 0},
  };
  CHECK(entry->ports == expected);
  CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kNonTcpPort));
}

TEST_CASE("A global service without TCP ports yields no ServiceEntry", "[planner][ports]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("ns", "dns", {{"dns", 53, "UDP", "", 53}}));
  world.cluster1.UpsertService(GlobalService("ns", "portless", {}));
  for (const char* name : {"dns", "portless"}) {
    Diagnostics diagnostics;
    CHECK_FALSE(PlanFor(world.clusters(), "cluster1", "ns", name, diagnostics));
    CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kNoTcpPorts));
  }
}

TEST_CASE("An unnamed port gets a generated name", "[planner][ports]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("ns", "svc", {{"", 5432, "TCP", "", 5432}}));
  world.cluster1.UpsertEndpointSlice(
      Slice("ns", "svc", "s", {ReadyEndpoint("10.244.0.5", "node-1")}, {{"", 5432, "TCP"}}));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "ns", "svc", diagnostics);
  REQUIRE(entry);
  REQUIRE(entry->ports.size() == 1);
  CHECK(entry->ports[0].name == "port-5432");
  REQUIRE(entry->endpoints.size() == 1);
  CHECK(entry->endpoints[0].ports ==
        std::vector<std::pair<std::string, std::int32_t>>{{"port-5432", 5432}});
}

TEST_CASE("Ports across clusters: union by number, the local definition wins", "[planner][ports]") {
  GuideWorld world;
  // cluster2's Service is older, but cluster1 is the local cluster: its
  // definition of port 80 wins.
  world.cluster1.UpsertService(
      GlobalService("ns", "svc", {{"http", 80, "TCP", "", 8080}, {"admin", 9000, "TCP", "", 0}},
                    /*created=*/2000));
  world.cluster2.UpsertService(
      GlobalService("ns", "svc", {{"web", 80, "TCP", "", 80}, {"grpc", 9090, "TCP", "", 0}},
                    /*created=*/1000));
  world.cluster1.UpsertEndpointSlice(Slice("ns", "svc", "s1",
                                           {ReadyEndpoint("10.244.0.5", "node-1")},
                                           {{"http", 8080, "TCP"}, {"admin", 9000, "TCP"}}));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "ns", "svc", diagnostics);
  REQUIRE(entry);
  const std::vector<ServiceEntryPort> expected = {
      {"http", 80, "HTTP", 8080}, {"admin", 9000, "TCP", 0}, {"grpc", 9090, "GRPC", 0}};
  CHECK(entry->ports == expected);
  REQUIRE(HasDiagnostic(diagnostics, DiagnosticCode::kPortConflict));
  const auto conflict = std::find_if(diagnostics.begin(), diagnostics.end(), [](const auto& d) {
    return d.code == DiagnosticCode::kPortConflict;
  });
  CHECK(conflict->object.cluster == "cluster2");  // the loser is reported
  CHECK_THAT(conflict->message, Catch::Contains("cluster1"));
  CHECK_THAT(conflict->message, Catch::Contains("kept the local cluster's"));
  // cluster1's pod serves port 80 on its own target port, under the winning name.
  REQUIRE(entry->endpoints.size() == 1);
  CHECK(entry->endpoints[0].ports ==
        std::vector<std::pair<std::string, std::int32_t>>{{"admin", 9000}, {"http", 8080}});
}

TEST_CASE("Equal creation times among remote clusters: the first by name wins",
          "[planner][ports]") {
  ClusterState a{"alpha", "n"};
  ClusterState b{"beta", "n"};
  ClusterState local{"gamma", "n"};  // exports nothing: only remotes define port 80
  a.UpsertService(GlobalService("ns", "svc", {{"one", 80, "TCP", "", 0}}, 1000));
  b.UpsertService(GlobalService("ns", "svc", {{"two", 80, "TCP", "", 0}}, 1000));
  for (const auto& order : {std::vector<const ClusterState*>{&a, &b, &local},
                            std::vector<const ClusterState*>{&local, &b, &a}}) {
    Diagnostics diagnostics;
    auto entry = PlanFor(order, "gamma", "ns", "svc", diagnostics);
    REQUIRE(entry);
    REQUIRE(entry->ports.size() == 1);
    CHECK(entry->ports[0].name == "one");
  }
}

TEST_CASE("Port conflict: a remote backdated to 1970 does not beat the local definition",
          "[planner][ports]") {
  GuideWorld world;
  world.cluster1.UpsertService(
      GlobalService("ns", "svc", {{"http", 80, "TCP", "", 8080}}, /*created=*/1741280405));
  // Whoever controls cluster2 writes its Services, creationTimestamp included.
  world.cluster2.UpsertService(
      GlobalService("ns", "svc", {{"raw", 80, "TCP", "tcp", 80}}, /*created=*/0));
  for (const auto& order :
       {world.clusters(), std::vector<const ClusterState*>{&world.cluster2, &world.cluster1}}) {
    Diagnostics diagnostics;
    auto entry = PlanFor(order, "cluster1", "ns", "svc", diagnostics);
    REQUIRE(entry);
    const std::vector<ServiceEntryPort> expected = {{"http", 80, "HTTP", 8080}};
    CHECK(entry->ports == expected);
    const auto conflict = std::find_if(diagnostics.begin(), diagnostics.end(), [](const auto& d) {
      return d.code == DiagnosticCode::kPortConflict;
    });
    REQUIRE(conflict != diagnostics.end());
    CHECK(conflict->severity == Severity::kWarning);
    CHECK(conflict->object.cluster == "cluster2");
    CHECK_THAT(conflict->message, Catch::Contains("name=raw protocol=TCP"));
    CHECK_THAT(conflict->message, Catch::Contains("name=http protocol=HTTP"));
    CHECK_THAT(conflict->message, Catch::EndsWith("kept the local cluster's"));
  }
}

TEST_CASE("Port conflict between remote clusters: the first by name wins, whatever the times",
          "[planner][ports]") {
  ClusterState local{"cluster0", "n"};
  ClusterState alpha{"alpha", "n"};
  ClusterState beta{"beta", "n"};
  // The local Service does not define port 80: the remotes decide it.
  local.UpsertService(GlobalService("ns", "svc", {{"admin", 9000, "TCP", "", 0}}, 500));
  alpha.UpsertService(GlobalService("ns", "svc", {{"web", 80, "TCP", "", 0}}, /*created=*/9000));
  beta.UpsertService(GlobalService("ns", "svc", {{"grpc", 80, "TCP", "", 0}}, /*created=*/0));
  for (const auto& order : {std::vector<const ClusterState*>{&local, &alpha, &beta},
                            std::vector<const ClusterState*>{&beta, &alpha, &local}}) {
    Diagnostics diagnostics;
    auto entry = PlanFor(order, "cluster0", "ns", "svc", diagnostics);
    REQUIRE(entry);
    const std::vector<ServiceEntryPort> expected = {{"web", 80, "TCP", 0},
                                                    {"admin", 9000, "TCP", 0}};
    CHECK(entry->ports == expected);
    const auto conflict = std::find_if(diagnostics.begin(), diagnostics.end(), [](const auto& d) {
      return d.code == DiagnosticCode::kPortConflict;
    });
    REQUIRE(conflict != diagnostics.end());
    CHECK(conflict->object.cluster == "beta");
    CHECK_THAT(conflict->message, Catch::EndsWith("kept cluster alpha's: first by name"));
  }
  SECTION("the local definition still beats every remote") {
    local.UpsertService(GlobalService("ns", "svc", {{"tcp-own", 80, "TCP", "", 0}}, 20000));
    Diagnostics diagnostics;
    auto entry = PlanFor({&local, &alpha, &beta}, "cluster0", "ns", "svc", diagnostics);
    REQUIRE(entry);
    REQUIRE(entry->ports.size() == 1);
    CHECK(entry->ports[0].name == "tcp-own");
    CHECK(std::count_if(diagnostics.begin(), diagnostics.end(), [](const auto& d) {
            return d.code == DiagnosticCode::kPortConflict;
          }) == 2);
  }
}

TEST_CASE("A backdated remote cannot take a port name from the local Service", "[planner][ports]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("ns", "svc", {{"http", 80, "TCP", "", 0}}, 2000));
  world.cluster2.UpsertService(GlobalService("ns", "svc", {{"http", 8080, "TCP", "", 0}}, 0));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "ns", "svc", diagnostics);
  REQUIRE(entry);
  REQUIRE(entry->ports.size() == 1);
  CHECK(entry->ports[0].number == 80);
  REQUIRE(HasDiagnostic(diagnostics, DiagnosticCode::kPortNameConflict));
  CHECK(diagnostics.back().object.cluster == "cluster2");
}

}  // namespace
}  // namespace globalsvc::mesh
