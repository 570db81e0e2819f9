// The one writer of the WorkloadEntry shape's objects, against the object
// calls kept in memory: it applies only what differs, deletes what is no
// longer desired with a uid precondition, never touches a foreign object,
// and writes nothing while it may not.

#include "controller/object_set_writer.h"

#include <catch2/catch.hpp>

#include "lib/mesh/model.h"
#include "lib/observability/metrics.h"
#include "test/support/memory_object_api.h"
#include "test/unit/controller/list_into.h"

namespace globalsvc::controller {
namespace {

using nlohmann::json;

json WorkloadEntry(const std::string& name, const std::string& address) {
  return {{"apiVersion", "networking.istio.io/v1"},
          {"kind", "WorkloadEntry"},
          {"metadata",
           {{"name", name},
            {"namespace", "httpbin"},
            {"labels",
             {{mesh::kManagedByLabel, mesh::kManagedByValue},
              {mesh::kParentServiceLabel, "in-ambient"},
              {mesh::kParentServiceNamespaceLabel, "httpbin"}}}}},
          {"spec", {{"address", address}}}};
}

json ServiceEntry() {
  json entry = WorkloadEntry("autogen.httpbin.in-ambient", "");
  entry["kind"] = "ServiceEntry";
  entry["spec"] = {{"hosts", {"in-ambient.httpbin.mesh.internal"}}};
  return entry;
}

// The writer and what it reads of the cluster, as the daemon wires them; the
// observers learn the cluster's objects through Sync(), as from a list.
struct Fixture {
  Fixture() {
    Sync();
    writer = std::make_unique<ObjectSetWriter>(
        api, ShapeObservers{&service_entries, &workload_entries, &gateways}, metrics,
        [this] { return leading; });
  }

  void Sync() {
    testing::ListInto(service_entries, api, kube::resources::ServiceEntries());
    testing::ListInto(workload_entries, api, kube::resources::WorkloadEntries());
    testing::ListInto(gateways, api, kube::resources::Gateways());
  }

  testsupport::MemoryObjectApi api;
  obs::Registry registry;
  ControllerMetrics metrics{registry};
  std::vector<std::string> keys;
  std::function<void(std::vector<std::string>)> on_keys = [this](std::vector<std::string> k) {
    keys.insert(keys.end(), k.begin(), k.end());
  };
  OwnedObjectObserver service_entries{"networking.istio.io/v1", "ServiceEntry", on_keys};
  OwnedObjectObserver workload_entries{"networking.istio.io/v1", "WorkloadEntry", on_keys};
  OwnedObjectObserver gateways{"gateway.networking.k8s.io/v1", "Gateway", on_keys};
  bool leading = true;
  std::unique_ptr<ObjectSetWriter> writer;
};

const std::string kOwner = "httpbin/in-ambient";

TEST_CASE("The object set writer applies what differs and nothing else", "[object-writer]") {
  Fixture f;
  const std::vector<json> desired = {ServiceEntry(), WorkloadEntry("autogen.we.a", "10.0.0.1"),
                                     WorkloadEntry("autogen.we.b", "10.0.0.2")};
  auto result = f.writer->Write(kOwner, desired);
  CHECK_FALSE(result.error);
  CHECK(result.applied == 3);
  CHECK(f.api.Calls("apply") == 3);
  auto stored = f.api.Find(kube::resources::WorkloadEntries(), "httpbin", "autogen.we.b");
  REQUIRE(stored);
  CHECK((*stored)["spec"]["address"] == "10.0.0.2");

  // The same set again: nothing to write, from what it recorded of its own
  // writes and from a fresh list alike.
  result = f.writer->Write(kOwner, desired);
  CHECK(result.applied == 0);
  f.Sync();
  result = f.writer->Write(kOwner, desired);
  CHECK(result.applied == 0);
  CHECK(f.api.Writes() == 3);

  // One endpoint moves: one write.
  auto moved = desired;
  moved[2] = WorkloadEntry("autogen.we.b", "10.0.0.3");
  result = f.writer->Write(kOwner, moved);
  CHECK(result.applied == 1);
  CHECK(f.api.Writes() == 4);
  CHECK((*f.api.Find(kube::resources::WorkloadEntries(), "httpbin",
                     "autogen.we.b"))["spec"]["address"] == "10.0.0.3");
}

TEST_CASE("The object set writer deletes what is no longer desired, with the uid it saw",
          "[object-writer]") {
  Fixture f;
  const std::vector<json> desired = {ServiceEntry(), WorkloadEntry("autogen.we.a", "10.0.0.1"),
                                     WorkloadEntry("autogen.we.b", "10.0.0.2")};
  REQUIRE(f.writer->Write(kOwner, desired).applied == 3);

  auto result = f.writer->Write(kOwner, {desired[0], desired[1]});
  CHECK_FALSE(result.error);
  CHECK(result.deleted == 1);
  CHECK_FALSE(f.api.Find(kube::resources::WorkloadEntries(), "httpbin", "autogen.we.b"));
  // Gone for good: asked again, it deletes nothing.
  CHECK(f.writer->Write(kOwner, {desired[0], desired[1]}).deleted == 0);
  CHECK(f.api.Calls("delete") == 1);

  // The object was replaced behind the writer's back (same name, new uid):
  // the delete's precondition keeps the newer object.
  CHECK(f.api.Delete(kube::resources::WorkloadEntries(), "httpbin", "autogen.we.a").ok());
  (void)f.api.Seed(kube::resources::WorkloadEntries(), WorkloadEntry("autogen.we.a", "10.9.9.9"));
  result = f.writer->Write(kOwner, {desired[0]});
  REQUIRE(result.error);
  CHECK(result.error->code == ErrorCode::kConflict);
  auto kept = f.api.Find(kube::resources::WorkloadEntries(), "httpbin", "autogen.we.a");
  REQUIRE(kept);
  CHECK((*kept)["spec"]["address"] == "10.9.9.9");
}

TEST_CASE("The object set writer never touches a foreign object in its way", "[object-writer]") {
  Fixture f;
  json foreign = ServiceEntry();
  foreign["metadata"].erase("labels");
  foreign["spec"]["hosts"] = {"someone.else"};
  (void)f.api.Seed(kube::resources::ServiceEntries(), foreign);
  json foreign_endpoint = WorkloadEntry("autogen.we.z", "10.1.1.1");
  foreign_endpoint["metadata"]["labels"].erase(mesh::kManagedByLabel);
  (void)f.api.Seed(kube::resources::WorkloadEntries(), foreign_endpoint);
  f.Sync();

  auto result = f.writer->Write(kOwner, {ServiceEntry(), WorkloadEntry("autogen.we.a", "1.1.1.1")});
  CHECK(result.conflicts ==
        std::vector<std::string>{"ServiceEntry httpbin/autogen.httpbin.in-ambient"});
  CHECK(result.applied == 1);
  // Neither rewritten nor deleted, though the foreign endpoint is not desired.
  CHECK(result.deleted == 0);
  CHECK((*f.api.Find(kube::resources::ServiceEntries(), "httpbin",
                     "autogen.httpbin.in-ambient"))["spec"]["hosts"][0] == "someone.else");
  CHECK(f.api.Find(kube::resources::WorkloadEntries(), "httpbin", "autogen.we.z"));
}

TEST_CASE("The object set writer writes nothing while it may not, and reports why",
          "[object-writer]") {
  Fixture f;
  f.leading = false;
  auto result = f.writer->Write(kOwner, {ServiceEntry()});
  REQUIRE(result.error);
  CHECK(result.error->code == ErrorCode::kUnavailable);
  CHECK(f.api.Writes() == 0);

  f.leading = true;
  CHECK(f.writer->Write(kOwner, {ServiceEntry()}).applied == 1);
}

TEST_CASE("A failed apply is the set's error; the other objects are still written",
          "[object-writer]") {
  Fixture f;
  f.api.FailNext("apply", MakeError(ErrorCode::kUnavailable, "etcd timeout"));
  auto result =
      f.writer->Write(kOwner, {ServiceEntry(), WorkloadEntry("autogen.we.a", "10.0.0.1")});
  REQUIRE(result.error);
  CHECK(result.error->message == "etcd timeout");
  CHECK(result.applied == 1);
  // Retried (as the work queue would): the one that failed is written now.
  result = f.writer->Write(kOwner, {ServiceEntry(), WorkloadEntry("autogen.we.a", "10.0.0.1")});
  CHECK_FALSE(result.error);
  CHECK(result.applied == 1);
  CHECK(f.api.Find(kube::resources::ServiceEntries(), "httpbin", "autogen.httpbin.in-ambient"));
  CHECK(f.api.Find(kube::resources::WorkloadEntries(), "httpbin", "autogen.we.a"));
}

}  // namespace
}  // namespace globalsvc::controller
