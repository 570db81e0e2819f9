// One key reconciled against the object calls kept in memory, in both
// shapes: the plan is written once and not again while unchanged, a foreign
// object of our name is left alone and reported, a service no longer global
// loses its objects (uid-fenced), nothing is written while not leading, a
// failed write says whether to retry, a hand edit of our object is undone,
// and an object deleted by someone else counts as deleted.

#include "controller/reconciler.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "controller/owned_object_observer.h"
#include "lib/mesh/model.h"
#include "lib/observability/metrics.h"
#include "test/support/memory_object_api.h"
#include "test/unit/controller/guide_store.h"
#include "test/unit/controller/list_into.h"
#include "test/unit/controller/memory_event_sink.h"

namespace globalsvc::controller {
namespace {

using nlohmann::json;

const std::string kKey = "httpbin/in-ambient";
const std::string kEntry = "autogen.httpbin.in-ambient";

struct InlineFixture {
  InlineFixture() {
    testing::FillGuide(store, 2);
    Sync();
  }
  static mesh::PlanOptions Cluster1() {
    mesh::PlanOptions options;
    options.target_cluster = "cluster1";
    options.control_plane_namespace = "istio-system";
    return options;
  }
  void Sync() { testing::ListInto(observed, api, kube::resources::ServiceEntries()); }

  MeshStore store;
  testsupport::MemoryObjectApi api;
  obs::Registry registry;
  ControllerMetrics metrics{registry};
  testing::MemoryEventSink events;
  ServiceEntryObserver observed{[](std::vector<std::string>) {}};
  const mesh::PlanOptions options = Cluster1();  // before the reconciler, which copies it
  bool leading = true;
  Reconciler reconciler{
      store, observed, api, options, metrics, &events, [this] { return leading; }};
};

std::optional<json> Entry(const testsupport::MemoryObjectApi& api) {
  return api.Find(kube::resources::ServiceEntries(), "istio-system", kEntry);
}

TEST_CASE("Inline shape: the plan is written once, and again only when it changes",
          "[reconciler]") {
  InlineFixture f;
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
  auto entry = Entry(f.api);
  REQUIRE(entry);
  CHECK((*entry)["metadata"]["labels"][mesh::kManagedByLabel] == mesh::kManagedByValue);
  CHECK((*entry)["spec"]["hosts"][0] == "in-ambient.httpbin.mesh.internal");
  CHECK((*entry)["spec"]["endpoints"].size() == 2);  // cluster1's pod, cluster2's gateway

  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kUnchanged);
  f.Sync();  // as after a relist: the stored object hashes as the plan
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kUnchanged);
  CHECK(f.api.Writes() == 1);

  testing::FillGuide(f.store, 3);
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
  CHECK(f.api.Writes() == 2);
  CHECK(f.reconciler.Contributions()["cluster2"].endpoints == 3);
}

TEST_CASE("Inline shape: a foreign ServiceEntry of our name is left alone and reported",
          "[reconciler]") {
  InlineFixture f;
  (void)f.api.Seed(kube::resources::ServiceEntries(),
                   {{"apiVersion", "networking.istio.io/v1"},
                    {"kind", "ServiceEntry"},
                    {"metadata", {{"name", kEntry}, {"namespace", "istio-system"}}},
                    {"spec", {{"hosts", {"theirs.example"}}}}});
  f.Sync();
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kConflict);
  CHECK(f.api.Writes() == 0);
  CHECK((*Entry(f.api))["spec"]["hosts"][0] == "theirs.example");
  REQUIRE(f.events.events.size() == 1);
  CHECK(f.events.events[0].object == "Service/httpbin/in-ambient");
  CHECK(f.events.events[0].reason == "ServiceEntryConflict");
  CHECK_THAT(f.events.events[0].message,
             Catch::Matchers::StartsWith("ServiceEntry istio-system/" + std::string(kEntry) +
                                         " exists and is not managed by globalsvc") &&
                 Catch::Matchers::EndsWith("this service is not exported here"));
  CHECK(f.metrics.conflicts.Value({"foreign-object"}) == 1);

  // Not global any more: still not ours to delete.
  f.store.RemoveCluster("cluster1");
  f.store.RemoveCluster("cluster2");
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kUnchanged);
  CHECK(Entry(f.api));
}

TEST_CASE("Inline shape: a service no longer global loses its ServiceEntry, uid-fenced",
          "[reconciler]") {
  InlineFixture f;
  REQUIRE(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
  f.store.RemoveCluster("cluster1");
  f.store.RemoveCluster("cluster2");
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kDeleted);
  CHECK_FALSE(Entry(f.api));
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kUnchanged);

  // Recreated meanwhile by another run (a new uid) that the observer has not
  // seen: the delete's precondition keeps it, and the key is retried.
  testing::FillGuide(f.store, 2);
  REQUIRE(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
  json replaced = *Entry(f.api);
  REQUIRE(f.api.Delete(kube::resources::ServiceEntries(), "istio-system", kEntry).ok());
  replaced["metadata"].erase("uid");
  (void)f.api.Seed(kube::resources::ServiceEntries(), replaced);
  f.store.RemoveCluster("cluster1");
  f.store.RemoveCluster("cluster2");
  const auto result = f.reconciler.Reconcile(kKey);
  CHECK(result.outcome == ReconcileOutcome::kError);
  REQUIRE(result.error);
  CHECK(result.error->retryable());
  CHECK(Entry(f.api));
}

TEST_CASE("Nothing is written while not leading; the key is retried", "[reconciler]") {
  InlineFixture f;
  f.leading = false;
  const auto result = f.reconciler.Reconcile(kKey);
  CHECK(result.outcome == ReconcileOutcome::kError);
  REQUIRE(result.error);
  CHECK(result.error->retryable());
  CHECK(f.api.Writes() == 0);
  f.leading = true;
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
}

TEST_CASE("A failed apply is an error that says whether to retry, and counts nothing",
          "[reconciler]") {
  InlineFixture f;
  f.api.FailNext("apply", MakeError(ErrorCode::kUnavailable, "etcd leader changed"));
  auto result = f.reconciler.Reconcile(kKey);
  CHECK(result.outcome == ReconcileOutcome::kError);
  REQUIRE(result.error);
  CHECK(result.error->retryable());
  CHECK_FALSE(Entry(f.api));
  CHECK(f.reconciler.Contributions().empty());
  CHECK(f.metrics.reconciles.Value({"error"}) == 1);

  // Refused by validation: not retried until something changes.
  f.api.FailNext("apply", MakeError(ErrorCode::kInvalidInput, "spec.hosts: Invalid value"));
  result = f.reconciler.Reconcile(kKey);
  CHECK(result.outcome == ReconcileOutcome::kError);
  REQUIRE(result.error);
  CHECK_FALSE(result.error->retryable());

  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
  CHECK(f.reconciler.Contributions()["cluster2"].endpoints == 2);
  CHECK(f.metrics.reconciles.Value({"applied"}) == 1);
}

TEST_CASE("Our ServiceEntry edited by hand is written back as planned", "[reconciler]") {
  InlineFixture f;
  REQUIRE(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
  json edited = *Entry(f.api);
  edited["spec"]["endpoints"] = json::array();
  REQUIRE(f.api.Update(kube::resources::ServiceEntries(), "istio-system", edited).ok());
  f.Sync();
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
  CHECK((*Entry(f.api))["spec"]["endpoints"].size() == 2);

  // Fields the plan does not own (another manager's label) are no drift.
  json labelled = *Entry(f.api);
  labelled["metadata"]["labels"]["team"] = "payments";
  REQUIRE(f.api.Update(kube::resources::ServiceEntries(), "istio-system", labelled).ok());
  f.Sync();
  const int writes = f.api.Writes();
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kUnchanged);
  CHECK(f.api.Writes() == writes);
}

TEST_CASE("A ServiceEntry already deleted by someone else counts as deleted", "[reconciler]") {
  InlineFixture f;
  REQUIRE(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
  f.store.RemoveCluster("cluster1");
  f.store.RemoveCluster("cluster2");
  f.api.FailNext("delete", MakeError(ErrorCode::kNotFound, "serviceentries not found"));
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kDeleted);
  // Recorded as gone: no second delete.
  const int deletes = f.api.Calls("delete");
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kUnchanged);
  CHECK(f.api.Calls("delete") == deletes);

  // Any other failure keeps the key for a retry.
  testing::FillGuide(f.store, 2);
  REQUIRE(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
  f.store.RemoveCluster("cluster1");
  f.store.RemoveCluster("cluster2");
  f.api.FailNext("delete", MakeError(ErrorCode::kUnavailable, "connection reset"));
  const auto result = f.reconciler.Reconcile(kKey);
  CHECK(result.outcome == ReconcileOutcome::kError);
  REQUIRE(result.error);
  CHECK(result.error->retryable());
  CHECK(Entry(f.api));
}

// The WorkloadEntry shape: observers of its three kinds, listed from the
// API, and one ObjectSetWriter over them.
struct ShapeFixture : InlineFixture {
  ShapeFixture() { ListAndWriteShape(); }
  void ListAndWriteShape() {
    testing::ListInto(entries, api, kube::resources::ServiceEntries());
    testing::ListInto(workloads, api, kube::resources::WorkloadEntries());
    testing::ListInto(gateways, api, kube::resources::Gateways());
    mesh::ShapeOptions shape;
    shape.control_plane_namespace = "istio-system";
    reconciler.WriteShapeWith(&writer, shape);
  }
  static void Ignore(std::vector<std::string>) {}
  OwnedObjectObserver entries{"networking.istio.io/v1", "ServiceEntry", Ignore};
  OwnedObjectObserver workloads{"networking.istio.io/v1", "WorkloadEntry", Ignore};
  OwnedObjectObserver gateways{"gateway.networking.k8s.io/v1", "Gateway", Ignore};
  ObjectSetWriter writer{api, {&entries, &workloads, &gateways}, metrics, [] { return true; }};
};

TEST_CASE("WorkloadEntry shape: a ServiceEntry and one WorkloadEntry per endpoint, written once",
          "[reconciler]") {
  ShapeFixture f;
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
  // The guide's cluster1 has no httpbin Namespace: the objects go to the
  // control-plane namespace.
  auto service_entry = f.api.Find(kube::resources::ServiceEntries(), "istio-system", kEntry);
  REQUIRE(service_entry);
  CHECK(service_entry->at("spec").contains("workloadSelector"));
  const auto workload_entries = [&] {
    auto listed = f.api.List(kube::resources::WorkloadEntries(), "istio-system");
    REQUIRE(listed.ok());
    std::vector<std::string> clusters;
    for (const auto& item : listed->items)
      clusters.push_back(item["metadata"]["labels"]["topology.istio.io/cluster"]);
    std::sort(clusters.begin(), clusters.end());
    return clusters;
  };
  // cluster1's pod, and cluster2's gateway (another network) for its pods.
  CHECK(workload_entries() == std::vector<std::string>{"cluster1", "cluster2"});
  const int writes = f.api.Writes();
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kUnchanged);
  CHECK(f.api.Writes() == writes);

  // cluster2 scales down: its gateway's weight changes, one write.
  testing::FillGuide(f.store, 1);
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kApplied);
  CHECK(f.api.Writes() == writes + 1);

  // cluster2 goes: its WorkloadEntry is deleted, the rest stays.
  f.store.RemoveCluster("cluster2");
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kDeleted);
  CHECK(f.api.Calls("delete") == 1);
  CHECK(workload_entries() == std::vector<std::string>{"cluster1"});
}

TEST_CASE("WorkloadEntry shape: a foreign object of our name is left alone and reported",
          "[reconciler]") {
  ShapeFixture f;
  (void)f.api.Seed(kube::resources::ServiceEntries(),
                   {{"apiVersion", "networking.istio.io/v1"},
                    {"kind", "ServiceEntry"},
                    {"metadata", {{"name", kEntry}, {"namespace", "istio-system"}}},
                    {"spec", {{"hosts", {"theirs.example"}}}}});
  f.ListAndWriteShape();
  CHECK(f.reconciler.Reconcile(kKey).outcome == ReconcileOutcome::kConflict);
  CHECK((*Entry(f.api))["spec"]["hosts"][0] == "theirs.example");
  REQUIRE(f.events.events.size() == 1);
  CHECK(f.events.events[0].object == "Service/httpbin/in-ambient");
  CHECK(f.events.events[0].reason == "ServiceEntryConflict");
  CHECK_THAT(f.events.events[0].message,
             Catch::Matchers::Contains(kEntry) &&
                 Catch::Matchers::EndsWith("this service is not fully exported here"));
  CHECK(f.metrics.conflicts.Value({"foreign-object"}) == 1);
}

}  // namespace
}  // namespace globalsvc::controller
