// Which services the planner exports (scope labels, dormant records) and the
// names, labels and fixed fields of the ServiceEntry it plans for them.

#include "lib/mesh/planner.h"

#include <catch2/catch.hpp>

#include "lib/mesh/service_entry.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using namespace testing;  // the test world's builders

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

}  // namespace
}  // namespace globalsvc::mesh
