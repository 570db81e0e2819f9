// Takeover as planned and rendered in the guide's world: the cluster-local host,
// the WorkloadEntries that join a Kubernetes Service, and when it is not honoured.

#include <catch2/catch.hpp>

#include "lib/mesh/istio_objects.h"
#include "lib/mesh/object_read_back.h"
#include "lib/mesh/takeover.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using namespace testing;
using nlohmann::json;

// The guide's world with echo/echo global in both clusters, and a remote-only
// service only cluster2 has.
struct TakeoverWorld : GuideWorld {
  TakeoverWorld() {
    for (ClusterState* cluster : {&cluster1, &cluster2}) {
      cluster->UpsertNamespace(
          {"echo", std::nullopt, "", std::nullopt, std::nullopt, std::nullopt});
      Service echo = GlobalService("echo", "echo");
      echo.selector = {{"app", "echo"}};
      cluster->UpsertService(echo);
    }
    cluster1.UpsertEndpointSlice(
        Slice("echo", "echo", "s1", {ReadyEndpoint("10.244.0.5", "node-1")}));
    cluster2.UpsertEndpointSlice(
        Slice("echo", "echo", "s2", {ReadyEndpoint("10.245.0.7", "node-1")}));
    cluster2.UpsertGatewayAddress({"istio-eastwestgateway", "203.0.113.20"});
    cluster2.UpsertNamespace(
        {"remote-only", std::nullopt, "", std::nullopt, std::nullopt, std::nullopt});
    cluster2.UpsertService(GlobalService("remote-only", "api"));
    cluster2.UpsertEndpointSlice(
        Slice("remote-only", "api", "s3", {ReadyEndpoint("10.245.0.9", "node-2")}));
  }

  std::optional<ServiceEntry> Plan(const std::string& ns, const std::string& name,
                                   Diagnostics& diagnostics) {
    return PlanFor(clusters(), "cluster1", ns, name, diagnostics);
  }

  void Label(ClusterState& cluster, const std::string& ns, const std::string& name,
             std::optional<std::string> takeover) {
    Service service = *cluster.FindService(ServiceKey(ns, name));
    service.takeover_label = std::move(takeover);
    cluster.UpsertService(service);
  }
};

TEST_CASE("Without takeover the objects stay as they were", "[mesh][takeover]") {
  TakeoverWorld world;
  Diagnostics diagnostics;
  auto entry = world.Plan("remote-only", "api", diagnostics);
  REQUIRE(entry);
  CHECK_FALSE(entry->takeover);
  CHECK(entry->cluster_local_host.empty());
  CHECK(ToJson(*entry)["spec"]["hosts"] == json::array({"api.remote-only.mesh.internal"}));
}

TEST_CASE("Takeover of a service this cluster lacks adds its cluster-local host",
          "[mesh][takeover]") {
  TakeoverWorld world;
  world.Label(world.cluster2, "remote-only", "api", "true");
  Diagnostics diagnostics;
  auto entry = world.Plan("remote-only", "api", diagnostics);
  REQUIRE(entry);
  CHECK(entry->takeover);
  CHECK(entry->cluster_local_host == "api.remote-only.svc.cluster.local");
  CHECK(entry->takeover_selector.empty());
  const json inline_shape = ToJson(*entry);
  CHECK(inline_shape["spec"]["hosts"] ==
        json::array({"api.remote-only.mesh.internal", "api.remote-only.svc.cluster.local"}));
  CHECK(inline_shape["metadata"]["labels"][kServiceTakeoverLabel] == "true");
  // Read back, the entry is the same.
  CHECK(ServiceEntryFromJson(inline_shape) == InlineFields(*entry));

  const ServiceObjects objects = RenderServiceObjects(*entry, {});
  CHECK(objects.service_entry["spec"]["hosts"] == inline_shape["spec"]["hosts"]);
  CHECK(objects.service_entry["metadata"]["labels"][kServiceTakeoverLabel] == "true");
  REQUIRE(objects.workload_entries.size() == 1);
  CHECK(objects.workload_entries[0]["metadata"]["labels"][kServiceTakeoverLabel] == "true");
  CHECK_FALSE(objects.workload_entries[0]["metadata"].contains("annotations"));

  SECTION("the cluster domain is an option") {
    PlanOptions options;
    options.target_cluster = "cluster1";
    options.cluster_domain = "corp.example";
    Diagnostics more;
    auto other = PlanService("remote-only", "api", world.clusters(), options, more);
    REQUIRE(other);
    CHECK(other->cluster_local_host == "api.remote-only.svc.corp.example");
  }
  SECTION("a Service of that name appearing here keeps its own name") {
    Service local = GlobalService("remote-only", "api");
    local.scope_label = "cluster";
    world.cluster1.UpsertService(local);
    Diagnostics more;
    auto now = world.Plan("remote-only", "api", more);
    REQUIRE(now);
    CHECK(now->cluster_local_host.empty());
    CHECK(HasDiagnostic(more, DiagnosticCode::kTakeoverNotHonoured));
  }
}

TEST_CASE("Takeover of a global Service this cluster has: the other clusters join it",
          "[mesh][takeover]") {
  TakeoverWorld world;
  world.Label(world.cluster1, "echo", "echo", "true");
  Diagnostics diagnostics;
  auto entry = world.Plan("echo", "echo", diagnostics);
  REQUIRE(entry);
  CHECK(entry->takeover);
  CHECK(entry->cluster_local_host.empty());  // the Kubernetes Service owns it
  CHECK(entry->takeover_selector ==
        std::vector<std::pair<std::string, std::string>>{{"app", "echo"}});
  CHECK(diagnostics.empty());

  const ServiceObjects objects = RenderServiceObjects(*entry, {});
  CHECK(objects.service_entry["spec"]["hosts"] == json::array({"echo.echo.mesh.internal"}));
  REQUIRE(objects.workload_entries.size() == 2);
  int joined = 0;
  for (const json& workload : objects.workload_entries) {
    const json& labels = workload["metadata"]["labels"];
    CHECK(labels[kServiceTakeoverLabel] == "true");
    if (labels[kClusterLabel] == "cluster1") {
      // The Service has its own pods already.
      CHECK_FALSE(labels.contains("app"));
      CHECK_FALSE(workload["metadata"].contains("annotations"));
    } else {
      ++joined;
      CHECK(labels["app"] == "echo");
      CHECK(workload["metadata"]["annotations"][kTakeoverLabelsAnnotation] == "app");
      // Still selected by the ServiceEntry of the global host.
      CHECK(labels.contains(kGlobalServiceLabel));
    }
  }
  CHECK(joined == 1);

  SECTION("a named targetPort is listed on the joining WorkloadEntries") {
    Service echo = *world.cluster1.FindService(ServiceKey("echo", "echo"));
    echo.ports = {{"http", 8000, "TCP", "", 0, "web"}};
    world.cluster1.UpsertService(echo);
    Diagnostics more;
    auto named = world.Plan("echo", "echo", more);
    REQUIRE(named);
    const ServiceObjects rendered = RenderServiceObjects(*named, {});
    for (const json& workload : rendered.workload_entries) {
      if (workload["metadata"]["labels"][kClusterLabel] == "cluster1") {
        CHECK_FALSE(workload["spec"]["ports"].contains("web"));
      } else {
        // A gateway endpoint: reached by service port.
        CHECK(workload["spec"]["ports"]["web"] == 8000);
      }
    }
    // Read back (an earlier run's objects), the endpoints are the plan's.
    const auto read = EntriesFromObjects({rendered.service_entry}, rendered.workload_entries);
    REQUIRE(read.size() == 1);
    CHECK(read[0].endpoints == named->endpoints);
  }
  SECTION("a named targetPort that is also a port name of the global service") {
    // cluster1's port 8000 targets the pods' port "web"; cluster2 has a
    // Service port named "web" of its own.
    Service local = *world.cluster1.FindService(ServiceKey("echo", "echo"));
    local.ports = {{"http", 8000, "TCP", "", 0, "web"}};
    world.cluster1.UpsertService(local);
    Service remote = *world.cluster2.FindService(ServiceKey("echo", "echo"));
    remote.ports = {{"http", 8000, "TCP", "", 0, ""}, {"web", 9000, "TCP", "", 0, ""}};
    world.cluster2.UpsertService(remote);
    Diagnostics more;
    auto named = world.Plan("echo", "echo", more);
    REQUIRE(named);
    const ServiceObjects rendered = RenderServiceObjects(*named, {});
    int joining = 0;
    for (const json& workload : rendered.workload_entries) {
      if (workload["metadata"]["labels"][kClusterLabel] == "cluster1") continue;
      ++joining;
      CHECK(workload["spec"]["ports"]["web"] == 8000);
      CHECK(workload["metadata"]["annotations"][kTakeoverPortsAnnotation] == "web");
    }
    CHECK(joining == 1);
    // Read back, "web" is the Service's targetPort, not the global port.
    const auto read = EntriesFromObjects({rendered.service_entry}, rendered.workload_entries);
    REQUIRE(read.size() == 1);
    CHECK(read[0].endpoints == named->endpoints);
  }
  SECTION("the selector's labels count in the content hash") {
    json joining;
    for (const json& workload : objects.workload_entries) {
      if (workload["metadata"]["labels"][kClusterLabel] == "cluster2") joining = workload;
    }
    REQUIRE(joining.is_object());
    const std::string before = OwnedContentHash(joining);
    json edited = joining;
    edited["metadata"]["labels"]["app"] = "other";
    CHECK(OwnedContentHash(edited) != before);
    edited = joining;
    edited["metadata"]["labels"]["unrelated"] = "x";  // someone else's label
    CHECK(OwnedContentHash(edited) == before);
  }
  SECTION("the inline shape cannot add endpoints to a Kubernetes Service") {
    PlanOptions options;
    options.target_cluster = "cluster1";
    options.can_join_kubernetes_service = false;
    Diagnostics more;
    auto inline_entry = PlanService("echo", "echo", world.clusters(), options, more);
    REQUIRE(inline_entry);
    CHECK(inline_entry->takeover_selector.empty());
    CHECK(HasDiagnostic(more, DiagnosticCode::kTakeoverNotHonoured));
  }
  SECTION("a Service without a selector cannot be taken over") {
    Service echo = *world.cluster1.FindService(ServiceKey("echo", "echo"));
    echo.selector.clear();
    world.cluster1.UpsertService(echo);
    Diagnostics more;
    auto plain = world.Plan("echo", "echo", more);
    REQUIRE(plain);
    CHECK(plain->takeover);
    CHECK(plain->takeover_selector.empty());
    CHECK(HasDiagnostic(more, DiagnosticCode::kTakeoverNotHonoured));
  }
}

TEST_CASE("A remote's takeover label does not take over a Service that says false here",
          "[mesh][takeover]") {
  TakeoverWorld world;
  world.Label(world.cluster2, "echo", "echo", "true");
  world.Label(world.cluster1, "echo", "echo", "false");
  Diagnostics diagnostics;
  auto entry = world.Plan("echo", "echo", diagnostics);
  REQUIRE(entry);
  CHECK_FALSE(entry->takeover);
  // Without a local word, the remote's label decides; global-only too.
  world.Label(world.cluster1, "echo", "echo", std::nullopt);
  entry = world.Plan("echo", "echo", diagnostics);
  REQUIRE(entry);
  CHECK(entry->takeover);
  world.Label(world.cluster2, "echo", "echo", std::nullopt);
  Service echo = *world.cluster2.FindService(ServiceKey("echo", "echo"));
  echo.scope_label = "global-only";
  world.cluster2.UpsertService(echo);
  entry = world.Plan("echo", "echo", diagnostics);
  REQUIRE(entry);
  CHECK(entry->takeover);
  CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kDeprecatedScope));
}

TEST_CASE("An invalid takeover label is reported and decides nothing", "[mesh][takeover]") {
  TakeoverWorld world;
  world.Label(world.cluster1, "echo", "echo", "yes");
  Diagnostics diagnostics;
  auto entry = world.Plan("echo", "echo", diagnostics);
  REQUIRE(entry);
  CHECK_FALSE(entry->takeover);
  REQUIRE(HasDiagnostic(diagnostics, DiagnosticCode::kInvalidTakeover));
}

}  // namespace
}  // namespace globalsvc::mesh
