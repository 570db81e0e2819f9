#include "lib/mesh/planner.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "lib/mesh/model.h"
#include "lib/mesh/service_entry.h"
#include "lib/mesh/traffic_distribution.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using testing::GlobalService;
using testing::GuideWorld;
using testing::HasDiagnostic;
using testing::PlanFor;
using testing::ReadyEndpoint;
using testing::Slice;

// ---------------------------------------------------------------- scope

TEST_CASE("Scope decides which services are exported", "[planner][scope]") {
  struct Case {
    const char* name;
    std::optional<std::string> service_label;
    std::optional<std::string> namespace_label;
    bool exported;
    std::optional<DiagnosticCode> diagnostic;
  };
  const std::vector<Case> cases = {
      {"service global", "global", std::nullopt, true, std::nullopt},
      {"namespace global", std::nullopt, "global", true, std::nullopt},
      {"service cluster in global namespace", "cluster", "global", false, std::nullopt},
      {"service local in global namespace", "local", "global", false, std::nullopt},
      {"service empty in global namespace", "", "global", false, std::nullopt},
      {"service global in cluster namespace", "global", "cluster", true, std::nullopt},
      {"deprecated global-only", "global-only", std::nullopt, true,
       DiagnosticCode::kDeprecatedScope},
      {"absent everywhere", std::nullopt, std::nullopt, false, std::nullopt},
      {"unknown value", "everywhere", std::nullopt, false, DiagnosticCode::kUnknownScope},
      {"wrong case is unknown", "Global", std::nullopt, false, DiagnosticCode::kUnknownScope},
      {"unknown namespace value", std::nullopt, "mesh", false, DiagnosticCode::kUnknownScope},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      GuideWorld world;
      Service service = GlobalService("httpbin", "in-ambient");
      service.scope_label = c.service_label;
      world.cluster1.UpsertService(service);
      world.cluster1.UpsertNamespace(
          {"httpbin", c.namespace_label, "", std::nullopt, std::nullopt, std::nullopt});
      Diagnostics diagnostics;
      auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
      CHECK(entry.has_value() == c.exported);
      if (c.diagnostic) {
        CHECK(HasDiagnostic(diagnostics, *c.diagnostic));
        CHECK(diagnostics.front().object.cluster == "cluster1");
        CHECK(diagnostics.front().object.kind == "Service");
        CHECK(diagnostics.front().object.name == "in-ambient");
      } else {
        CHECK(diagnostics.empty());
      }
    }
  }
}

TEST_CASE("Unknown scope message suggests the right spelling", "[planner][scope]") {
  GuideWorld world;
  Service service = GlobalService("httpbin", "in-ambient");
  service.scope_label = "Global";
  world.cluster1.UpsertService(service);
  Diagnostics diagnostics;
  (void)PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(diagnostics.size() == 1);
  CHECK_THAT(diagnostics[0].message, Catch::Contains("did you mean 'global'"));
}

TEST_CASE("A service exported only remotely still gets a ServiceEntry locally",
          "[planner][scope]") {
  GuideWorld world;
  world.cluster2.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster2.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1", {ReadyEndpoint("10.245.0.7", "node-1")}));
  // The local copy is cluster-scoped: its endpoints must not leak out.
  Service local = GlobalService("httpbin", "in-ambient");
  local.scope_label = "cluster";
  world.cluster1.UpsertService(local);
  world.cluster1.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1", {ReadyEndpoint("10.244.0.5", "node-1")}));

  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(entry);
  REQUIRE(entry->endpoints.size() == 1);
  CHECK(entry->endpoints[0].cluster == "cluster2");
  CHECK(entry->endpoints[0].address.empty());
  CHECK(entry->endpoints[0].weight == 1);
}

TEST_CASE("A dormant record, or one with dormant slices, does not contribute yet",
          "[planner][scope]") {
  GuideWorld world;
  world.cluster2.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster2.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1", {ReadyEndpoint("10.245.0.7", "node-1")}));
  Service local = GlobalService("httpbin", "in-ambient");
  local.dormant = true;  // exported by its label, but not read again yet
  world.cluster1.UpsertService(local);
  world.cluster1.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1", {ReadyEndpoint("10.244.0.5", "node-1")}));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(entry);
  REQUIRE(entry->endpoints.size() == 1);
  CHECK(entry->endpoints[0].cluster == "cluster2");

  // Whole again, but a slice is still dormant: still as before.
  world.cluster1.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster1.MakeSlicesDormant("httpbin/in-ambient");
  CHECK(world.cluster1.HasDormantSlices("httpbin/in-ambient"));
  entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(entry);
  CHECK(entry->endpoints.size() == 1);

  // Read again: it contributes.
  world.cluster1.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1", {ReadyEndpoint("10.244.0.5", "node-1")}));
  entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(entry);
  CHECK(entry->endpoints.size() == 2);
}

// ---------------------------------------------------------------- naming

TEST_CASE("Generated object names, labels, host and fixed spec fields", "[planner]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("httpbin", "in-ambient"));
  Diagnostics diagnostics;
  PlanOptions options;
  options.target_cluster = "cluster1";
  options.control_plane_namespace = "mesh-control";
  options.host_suffix = "global.example";
  auto clusters = world.clusters();
  auto entry = PlanService("httpbin", "in-ambient", clusters, options, diagnostics);
  REQUIRE(entry);
  CHECK(entry->name == "autogen.httpbin.in-ambient");
  CHECK(entry->namespace_name == "mesh-control");
  CHECK(entry->host == "in-ambient.httpbin.global.example");

  const nlohmann::json json = ToJson(*entry);
  CHECK(json["apiVersion"] == "networking.istio.io/v1");
  CHECK(json["kind"] == "ServiceEntry");
  CHECK(json["metadata"]["labels"] ==
        nlohmann::json{{"app.kubernetes.io/managed-by", "globalsvc"},
                       {"solo.io/parent-service", "in-ambient"},
                       {"solo.io/parent-service-namespace", "httpbin"},
                       {"solo.io/service-scope", "global"}});
  CHECK(json["spec"]["resolution"] == "STATIC");
  CHECK(json["spec"]["location"] == "MESH_INTERNAL");
  CHECK_FALSE(json["spec"].contains("addresses"));
  CHECK_FALSE(json["spec"].contains("endpoints"));  // no endpoints yet
}

TEST_CASE("Services nobody exports yield nothing", "[planner]") {
  GuideWorld world;
  Service plain = GlobalService("default", "plain");
  plain.scope_label.reset();
  world.cluster1.UpsertService(plain);
  auto clusters = world.clusters();
  PlanOptions options;
  options.target_cluster = "cluster1";
  Plan plan = PlanCluster(clusters, options);
  CHECK(plan.entries.empty());
  Diagnostics diagnostics;
  CHECK_FALSE(PlanFor(clusters, "cluster1", "default", "missing", diagnostics));
}

TEST_CASE("Planning for a cluster that is not connected is an error", "[planner]") {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("httpbin", "in-ambient"));
  auto clusters = world.clusters();
  PlanOptions options;
  options.target_cluster = "cluster9";
  Plan plan = PlanCluster(clusters, options);
  CHECK(plan.entries.empty());
  CHECK(HasDiagnostic(plan.diagnostics, DiagnosticCode::kUnknownCluster));
  CHECK(HasErrors(plan.diagnostics));
}

// ---------------------------------------------------------------- traffic distribution

TEST_CASE("Traffic distribution: annotation, then spec, then PreferNetwork",
          "[planner][traffic-distribution]") {
  struct Case {
    const char* name;
    std::optional<std::string> annotation;
    std::string spec;
    std::string expected;
    bool unknown_diagnostic;
  };
  const std::vector<Case> cases = {
      {"annotation wins", "PreferClose", "PreferSameNode", "PreferClose", false},
      {"spec when no annotation", std::nullopt, "PreferSameZone", "PreferSameZone", false},
      {"empty annotation falls back to spec", "", "PreferClose", "PreferClose", false},
      {"default", std::nullopt, "", "PreferNetwork", false},
      {"case preserved, compared case-insensitively", "preferclose", "", "preferclose", false},
      {"unknown value passes through with a warning", "Nearest", "", "Nearest", true},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      GuideWorld world;
      Service service = GlobalService("httpbin", "in-ambient");
      service.traffic_distribution_annotation = c.annotation;
      service.traffic_distribution_spec = c.spec;
      world.cluster1.UpsertService(service);
      Diagnostics diagnostics;
      auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
      REQUIRE(entry);
      CHECK(RequestedTrafficDistribution(*entry) == c.expected);
      CHECK(entry->traffic_distribution == WrittenTrafficDistribution(c.expected));
      CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kUnknownTrafficDistribution) ==
            c.unknown_diagnostic);
    }
  }
}

TEST_CASE("Traffic distribution: the Namespace's annotation when the Service sets none",
          "[planner][traffic-distribution]") {
  struct Case {
    const char* name;
    std::optional<std::string> service_annotation;
    std::string spec;
    std::optional<std::string> namespace_annotation;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"namespace when the Service sets none", std::nullopt, "", "PreferSameNode",
       "PreferSameNode"},
      {"the Service's annotation first", "PreferClose", "", "PreferSameNode", "PreferClose"},
      {"the Service's spec before the namespace", std::nullopt, "PreferClose", "PreferSameNode",
       "PreferClose"},
      {"an empty namespace annotation means the default", std::nullopt, "", "", "PreferNetwork"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    GuideWorld world;
    Namespace ns;
    ns.name = "httpbin";
    ns.traffic_distribution_annotation = c.namespace_annotation;
    world.cluster1.UpsertNamespace(ns);
    Service service = GlobalService("httpbin", "in-ambient");
    service.traffic_distribution_annotation = c.service_annotation;
    service.traffic_distribution_spec = c.spec;
    world.cluster1.UpsertService(service);
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
    REQUIRE(entry);
    CHECK(RequestedTrafficDistribution(*entry) == c.expected);
  }
}

TEST_CASE("PreferNetwork and PreferRegion are written as PreferClose, and the request is kept",
          "[planner][traffic-distribution]") {
  struct Case {
    std::optional<std::string> annotation;
    std::string written;
    std::string requested_annotation;
  };
  const std::vector<Case> cases = {
      {std::nullopt, "PreferClose", "PreferNetwork"},
      {"PreferRegion", "PreferClose", "PreferRegion"},
      {"prefernetwork", "PreferClose", "prefernetwork"},
      {"PreferClose", "PreferClose", "PreferClose"},
      {"PreferSameNode", "PreferSameNode", "PreferSameNode"},
      {"Any", "Any", "Any"},
  };
  for (const Case& c : cases) {
    INFO(c.annotation.value_or("(unset)"));
    GuideWorld world;
    Service service = GlobalService("httpbin", "in-ambient");
    service.traffic_distribution_annotation = c.annotation;
    world.cluster1.UpsertService(service);
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
    REQUIRE(entry);
    const nlohmann::json object = ToJson(*entry);
    const auto& annotations = object["metadata"]["annotations"];
    CHECK(annotations[kTrafficDistributionAnnotation] == c.written);
    CHECK(annotations[kRequestedTrafficDistributionAnnotation] == c.requested_annotation);
    // Read back, the entry is the same, so a restart writes nothing.
    auto read_back = ServiceEntryFromJson(object);
    REQUIRE(read_back);
    CHECK(*read_back == testing::InlineFields(*entry));
    CHECK(ContentHash(object) == ContentHash(*entry));
  }
}

TEST_CASE("Without a local service, the remote clusters' agreed value is used",
          "[planner][traffic-distribution]") {
  ClusterState local{"cluster0", "net0"};
  ClusterState a{"cluster1", "net1"};
  ClusterState b{"cluster2", "net2"};
  Service sa = GlobalService("ns", "svc");
  Service sb = GlobalService("ns", "svc");
  sa.traffic_distribution_annotation = "PreferClose";

  SECTION("agreement") {
    sb.traffic_distribution_spec = "preferclose";
    a.UpsertService(sa);
    b.UpsertService(sb);
    Diagnostics diagnostics;
    auto entry = PlanFor({&local, &a, &b}, "cluster0", "ns", "svc", diagnostics);
    REQUIRE(entry);
    CHECK(entry->traffic_distribution == "PreferClose");
    CHECK(diagnostics.empty());
  }
  SECTION("values that upstream applies alike agree") {
    sb.traffic_distribution_annotation = "PreferNetwork";  // written as PreferClose too
    a.UpsertService(sa);
    b.UpsertService(sb);
    Diagnostics diagnostics;
    auto entry = PlanFor({&local, &a, &b}, "cluster0", "ns", "svc", diagnostics);
    REQUIRE(entry);
    CHECK(entry->traffic_distribution == "PreferClose");
    CHECK(diagnostics.empty());
  }
  SECTION("disagreement falls back to PreferNetwork and says so") {
    sb.traffic_distribution_annotation = "PreferSameNode";
    a.UpsertService(sa);
    b.UpsertService(sb);
    Diagnostics diagnostics;
    auto entry = PlanFor({&local, &a, &b}, "cluster0", "ns", "svc", diagnostics);
    REQUIRE(entry);
    CHECK(RequestedTrafficDistribution(*entry) == "PreferNetwork");
    CHECK(entry->traffic_distribution == "PreferClose");
    CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kTrafficDistributionDisagreement));
  }
  SECTION("the local service decides even when remotes differ") {
    Service mine = GlobalService("ns", "svc");
    mine.traffic_distribution_annotation = "PreferRegion";
    local.UpsertService(mine);
    a.UpsertService(sa);
    b.UpsertService(sb);
    Diagnostics diagnostics;
    auto entry = PlanFor({&local, &a, &b}, "cluster0", "ns", "svc", diagnostics);
    REQUIRE(entry);
    CHECK(RequestedTrafficDistribution(*entry) == "PreferRegion");
    CHECK(entry->traffic_distribution == "PreferClose");
    CHECK(diagnostics.empty());
  }
}

// ---------------------------------------------------------------- ports

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

// ---------------------------------------------------------------- endpoints

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

// ---------------------------------------------------------------- cap

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
