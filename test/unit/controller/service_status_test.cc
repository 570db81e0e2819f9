// The GlobalService status built from the plan: counts by cluster for the
// guide topology, clusters without ready endpoints, conflicts and problems,
// and a hash that survives the API server's round trip.

#include "controller/service_status.h"

#include <catch2/catch.hpp>

#include "test/unit/mesh/test_world.h"

namespace globalsvc::controller {
namespace {

using mesh::testing::GlobalService;
using mesh::testing::GuideWorld;
using mesh::testing::PlanFor;
using mesh::testing::ReadyEndpoint;
using mesh::testing::Slice;

// The guide: two pods in each cluster, one per zone.
GuideWorld GuideWithPods() {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster2.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster1.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1",
            {ReadyEndpoint("10.244.0.5", "node-1"), ReadyEndpoint("10.244.1.8", "node-2")}));
  world.cluster2.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1",
            {ReadyEndpoint("10.245.0.5", "node-1"), ReadyEndpoint("10.245.1.8", "node-2")}));
  return world;
}

struct Built {
  mesh::ServiceEntry entry;
  mesh::Diagnostics diagnostics;
  nlohmann::json status;
};

Built BuildFor(const GuideWorld& world, const std::string& target,
               ServiceEntryState state = ServiceEntryState::kSynced, std::string message = {}) {
  Built built;
  auto entry = PlanFor(world.clusters(), target, "httpbin", "in-ambient", built.diagnostics);
  REQUIRE(entry);
  built.entry = *entry;
  ServiceStatusInput input;
  input.entry = &built.entry;
  input.diagnostics = &built.diagnostics;
  for (const auto* cluster : world.clusters()) {
    if (ExportsService(*cluster, "httpbin", "in-ambient")) {
      input.exporting_clusters.push_back(cluster->name());
    }
  }
  input.state = state;
  input.message = std::move(message);
  built.status = BuildServiceStatus(input);
  return built;
}

TEST_CASE("GlobalService status of the guide topology counts endpoints by cluster",
          "[controller][status]") {
  const GuideWorld world = GuideWithPods();
  const nlohmann::json status = BuildFor(world, "cluster1").status;
  INFO(status.dump(2));
  CHECK(status["host"] == "in-ambient.httpbin.mesh.internal");
  CHECK(status["serviceEntry"] == "autogen.httpbin.in-ambient");
  CHECK(status["trafficDistribution"] == "PreferClose");
  CHECK(status["state"] == "Synced");
  CHECK(status["endpointsByCluster"] == "cluster1=2,cluster2=2");
  CHECK(status["endpoints"] == 4);
  // Two local pods, one aggregated gateway endpoint of weight 2.
  CHECK(status["serviceEntryEndpoints"] == 3);
  CHECK(status["conflicts"] == 0);
  CHECK_FALSE(status.contains("diagnostics"));
  CHECK_FALSE(status.contains("message"));
  CHECK_FALSE(status.contains(kLastChangeTimeField));
  const nlohmann::json expected_clusters = nlohmann::json::parse(R"([
    {"name": "cluster1", "network": "cluster1-network", "endpoints": 2,
     "localities": ["us-east-1/us-east-1a", "us-east-1/us-east-1b"]},
    {"name": "cluster2", "network": "cluster2-network", "endpoints": 2, "viaGateway": true,
     "localities": ["us-west-2/us-west-2a"]}
  ])");
  CHECK(status["clusters"] == expected_clusters);
  CHECK(status["ports"] ==
        nlohmann::json::parse(R"([{"name": "http", "number": 8000, "protocol": "HTTP"}])"));
}

TEST_CASE("The status says how the cluster-local name is taken over", "[controller][status]") {
  GuideWorld world = GuideWithPods();
  CHECK_FALSE(BuildFor(world, "cluster1").status.contains("takeover"));
  mesh::Service service = *world.cluster1.FindService("httpbin/in-ambient");
  service.takeover_label = "true";
  service.selector = {{"app", "in-ambient"}};
  world.cluster1.UpsertService(service);
  CHECK(BuildFor(world, "cluster1").status["takeover"] == "KubernetesService");
  service.selector.clear();
  world.cluster1.UpsertService(service);
  CHECK(BuildFor(world, "cluster1").status["takeover"] == "NotApplied");
  // cluster2's view: the label comes from cluster1, cluster2's own Service
  // exists, so it joins (no selector there: NotApplied).
  CHECK(BuildFor(world, "cluster2").status["takeover"] == "NotApplied");
  world.cluster2.RemoveService("httpbin", "in-ambient");
  CHECK(BuildFor(world, "cluster2").status["takeover"] == "ServiceEntryHost");
}

TEST_CASE("The status names the cluster's segment and the aliases", "[controller][status]") {
  GuideWorld world = GuideWithPods();
  CHECK_FALSE(BuildFor(world, "cluster1").status.contains("segment"));
  CHECK_FALSE(BuildFor(world, "cluster1").status.contains("aliases"));
  mesh::Namespace control_plane;
  control_plane.name = "istio-system";
  control_plane.network_label = "cluster1-network";
  control_plane.segment_label = "acme";
  world.cluster1.UpsertNamespace(control_plane);
  world.cluster1.UpsertSegment({"acme", "mesh.acme", {{"{service}.acme", {}}}});
  const auto status = BuildFor(world, "cluster1").status;
  CHECK(status["segment"] == "acme");
  CHECK(status["host"] == "in-ambient.httpbin.mesh.acme");
  CHECK(status["aliases"] == nlohmann::json::array({"in-ambient.acme"}));
}

TEST_CASE("A cluster where the service is global but has no ready endpoint shows 0",
          "[controller][status]") {
  GuideWorld world = GuideWithPods();
  world.cluster2.UpsertEndpointSlice(Slice("httpbin", "in-ambient", "s1", {}));
  const nlohmann::json status = BuildFor(world, "cluster1").status;
  INFO(status.dump(2));
  CHECK(status["endpointsByCluster"] == "cluster1=2,cluster2=0");
  CHECK(status["endpoints"] == 2);
  CHECK(status["clusters"][1] == nlohmann::json::parse(R"({"name": "cluster2", "endpoints": 0})"));

  // Not global there at all: not listed.
  world.cluster2.RemoveService("httpbin", "in-ambient");
  CHECK(BuildFor(world, "cluster1").status["endpointsByCluster"] == "cluster1=2");
}

TEST_CASE("Conflicts count port disagreements and a foreign ServiceEntry", "[controller][status]") {
  GuideWorld world = GuideWithPods();
  // cluster2 defines port 8000 differently, and is younger: cluster1's wins.
  world.cluster2.UpsertService(
      GlobalService("httpbin", "in-ambient", {{"grpc", 8000, "TCP", "grpc", 8080}}, 2000));
  const Built built = BuildFor(world, "cluster1");
  INFO(built.status.dump(2));
  CHECK(built.status["conflicts"] == 1);
  REQUIRE(built.status.contains("diagnostics"));
  bool port_conflict = false;
  for (const auto& d : built.status["diagnostics"]) {
    if (d["code"] == "PortConflict") {
      port_conflict = true;
      CHECK_FALSE(d.value("message", "").empty());
    }
  }
  CHECK(port_conflict);

  const Built blocked =
      BuildFor(GuideWithPods(), "cluster1", ServiceEntryState::kConflict, "left untouched");
  CHECK(blocked.status["state"] == "Conflict");
  CHECK(blocked.status["message"] == "left untouched");
  CHECK(blocked.status["conflicts"] == 1);
}

TEST_CASE("Diagnostics are listed up to a limit", "[controller][status]") {
  const GuideWorld world = GuideWithPods();
  auto built = BuildFor(world, "cluster1");
  mesh::Diagnostics many;
  for (int i = 0; i < 50; ++i) {
    many.push_back({mesh::Severity::kWarning,
                    mesh::DiagnosticCode::kMissingLocality,
                    {"cluster2", "Node", "", "node-" + std::to_string(i)},
                    "no region"});
  }
  many.push_back({mesh::Severity::kError,
                  mesh::DiagnosticCode::kEndpointCapExceeded,
                  {"cluster1", "Service", "httpbin", "in-ambient"},
                  "4096 endpoints kept, 10 left out"});
  ServiceStatusInput input;
  input.entry = &built.entry;
  input.diagnostics = &many;
  const auto status = BuildServiceStatus(input);
  REQUIRE(status["diagnostics"].size() == kMaxStatusDiagnostics);
  CHECK(status["diagnostics"][0] == nlohmann::json::parse(R"({"severity": "warning",
    "code": "MissingLocality", "cluster": "cluster2", "object": "Node node-0",
    "message": "no region"})"));
}

TEST_CASE("The status hash ignores the change time and survives a JSON round trip",
          "[controller][status]") {
  const GuideWorld world = GuideWithPods();
  const nlohmann::json status = BuildFor(world, "cluster1").status;
  const std::string hash = StatusHash(status);
  CHECK(hash.size() == 16);
  // Built twice: the same bytes.
  CHECK(StatusHash(BuildFor(world, "cluster1").status) == hash);
  // From the text the writer keeps: the same hash.
  CHECK(StatusTextHash(status.dump()) == hash);
  // As the API server returns it: parsed from text, with the change time.
  nlohmann::json stored = nlohmann::json::parse(status.dump());
  stored[kLastChangeTimeField] = "2026-01-02T03:04:05.000000Z";
  CHECK(StatusHash(stored) == hash);
  // A real change changes it.
  GuideWorld scaled = GuideWithPods();
  scaled.cluster2.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1", {ReadyEndpoint("10.245.0.5", "node-1")}));
  CHECK(StatusHash(BuildFor(scaled, "cluster1").status) != hash);
  CHECK(StatusHash(BuildFor(world, "cluster2").status) != hash);
}

TEST_CASE("GlobalService names map to service keys", "[controller][status]") {
  CHECK(GlobalServiceName("httpbin", "in-ambient") == "httpbin.in-ambient");
  CHECK(KeyOfGlobalServiceName("httpbin.in-ambient") == "httpbin/in-ambient");
  CHECK(KeyOfGlobalServiceName("a.b.c") == "a/b.c");
  CHECK_FALSE(KeyOfGlobalServiceName("nodot"));
  CHECK_FALSE(KeyOfGlobalServiceName(".x"));
  CHECK_FALSE(KeyOfGlobalServiceName("x."));
}

TEST_CASE("ExportsService follows the service label, then the namespace label",
          "[controller][status]") {
  mesh::ClusterState cluster{"c", "n"};
  CHECK_FALSE(ExportsService(cluster, "ns", "svc"));
  mesh::Service service = GlobalService("ns", "svc");
  service.scope_label.reset();
  cluster.UpsertService(service);
  CHECK_FALSE(ExportsService(cluster, "ns", "svc"));
  cluster.UpsertNamespace({"ns", "global", "", std::nullopt, std::nullopt, std::nullopt});
  CHECK(ExportsService(cluster, "ns", "svc"));
  service.scope_label = "cluster";
  cluster.UpsertService(service);
  CHECK_FALSE(ExportsService(cluster, "ns", "svc"));
}

}  // namespace
}  // namespace globalsvc::controller
