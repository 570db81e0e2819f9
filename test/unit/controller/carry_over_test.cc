// A restart while a remote cluster is down: what the local objects hold for
// it is planned in its place. Round trip: the objects are written from a
// store that knows both clusters, then read back into a store that knows only
// the local one, in both shapes.

#include "controller/carry_over.h"

#include <catch2/catch.hpp>

#include "controller/object_set_writer.h"
#include "controller/owned_object_observer.h"
#include "controller/reconciler.h"
#include "lib/mesh/istio_objects.h"
#include "lib/mesh/peer_gateways.h"
#include "lib/observability/metrics.h"
#include "test/support/memory_object_api.h"
#include "test/unit/controller/guide_store.h"
#include "test/unit/controller/list_into.h"

namespace globalsvc::controller {
namespace {

const std::string kKey = "httpbin/in-ambient";

mesh::PlanOptions Cluster1() {
  mesh::PlanOptions options;
  options.target_cluster = "cluster1";
  options.control_plane_namespace = "istio-system";
  return options;
}

std::optional<mesh::ServiceEntry> Plan(const MeshStore& store) {
  mesh::Diagnostics diagnostics;
  return store.Plan("httpbin", "in-ambient", Cluster1(), diagnostics);
}

// cluster1 only: cluster2's API server is down after the restart.
void FillCluster1(MeshStore& store) {
  testing::FillGuide(store, 1);
  store.RemoveCluster("cluster2");
}

TEST_CASE("Inline shape: an unsynced cluster keeps the endpoints the ServiceEntry holds",
          "[carry-over]") {
  MeshStore before;
  testing::FillGuide(before, 2);
  testsupport::MemoryObjectApi api;
  obs::Registry registry;
  ControllerMetrics metrics{registry};
  ServiceEntryObserver observed{[](std::vector<std::string>) {}};
  Reconciler reconciler(before, observed, api, Cluster1(), metrics, nullptr, nullptr);
  REQUIRE(reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);

  MeshStore after;
  FillCluster1(after);
  REQUIRE(Plan(after)->endpoints.size() == 1);
  CarryOverUnsynced(api, {false, "istio-system"}, {"cluster2"}, after);
  CHECK(after.HasCarried("cluster2"));
  auto planned = Plan(after);
  REQUIRE(planned);
  auto expected = Plan(before);
  CHECK(planned->endpoints == expected->endpoints);
  // A cluster the objects hold nothing of is left as it is.
  CarryOverUnsynced(api, {false, "istio-system"}, {"cluster9"}, after);
  CHECK_FALSE(after.HasCarried("cluster9"));
}

TEST_CASE("WorkloadEntry shape: an unsynced cluster keeps its endpoints and its peer Gateway",
          "[carry-over]") {
  MeshStore before;
  testing::FillGuide(before, 2);
  // cluster2's east-west gateway has an address: it gets a peer Gateway.
  before.Update("cluster2", [](mesh::ClusterState& state) {
    state.UpsertGatewayAddress({"istio-eastwestgateway", "203.0.113.20"});
  });
  testsupport::MemoryObjectApi api;
  obs::Registry registry;
  ControllerMetrics metrics{registry};
  ServiceEntryObserver observed{[](std::vector<std::string>) {}};
  auto on_keys = [](std::vector<std::string>) {};
  OwnedObjectObserver entries("networking.istio.io/v1", "ServiceEntry", on_keys);
  OwnedObjectObserver workloads("networking.istio.io/v1", "WorkloadEntry", on_keys);
  OwnedObjectObserver gateways("gateway.networking.k8s.io/v1", "Gateway", on_keys);
  testing::ListInto(entries, api, kube::resources::ServiceEntries());  // nothing yet
  testing::ListInto(workloads, api, kube::resources::WorkloadEntries());
  testing::ListInto(gateways, api, kube::resources::Gateways());
  ObjectSetWriter writer(api, {&entries, &workloads, &gateways}, metrics, nullptr);
  Reconciler reconciler(before, observed, api, Cluster1(), metrics, nullptr, nullptr);
  mesh::ShapeOptions shape;
  shape.control_plane_namespace = "istio-system";
  reconciler.WriteShapeWith(&writer, shape);
  REQUIRE(reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
  REQUIRE(reconciler.Reconcile(kPeerGatewaysKey).outcome == ReconcileOutcome::kApplied);

  MeshStore after;
  FillCluster1(after);
  mesh::Diagnostics diagnostics;
  REQUIRE(after.PlanPeerGateways("cluster1", shape, diagnostics).empty());
  CarryOverUnsynced(api, {true, "istio-system"}, {"cluster2"}, after);
  auto planned = Plan(after);
  REQUIRE(planned);
  CHECK(planned->endpoints == Plan(before)->endpoints);
  const auto carried_gateways = after.PlanPeerGateways("cluster1", shape, diagnostics);
  REQUIRE(carried_gateways.size() == 1);
  CHECK(carried_gateways[0].cluster == "cluster2");
  CHECK(carried_gateways[0].address == "203.0.113.20");
}

TEST_CASE("Objects that cannot be read leave an unsynced cluster without endpoints",
          "[carry-over]") {
  testsupport::MemoryObjectApi api;
  api.FailNext("list", MakeError(ErrorCode::kForbidden, "serviceentries is forbidden"));
  MeshStore store;
  FillCluster1(store);
  CarryOverUnsynced(api, {false, "istio-system"}, {"cluster2"}, store);
  CHECK_FALSE(store.HasCarried("cluster2"));
  CHECK(Plan(store)->endpoints.size() == 1);
}

}  // namespace
}  // namespace globalsvc::controller
