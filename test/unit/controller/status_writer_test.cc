// RemoteCluster status against the object calls kept in memory: created with
// the managed-by label, written only when it changes, never over a foreign
// object of the same name, deleted with the uid it saw, and the foreign
// object looked at again after a while (the time passed in).

#include "controller/status_writer.h"

#include <catch2/catch.hpp>

#include "lib/mesh/model.h"
#include "lib/observability/metrics.h"
#include "test/support/memory_object_api.h"

namespace globalsvc::controller {
namespace {

using nlohmann::json;

ClusterStatusReport Report(const std::string& cluster, bool connected = true) {
  ClusterStatusReport report;
  report.cluster = cluster;
  report.local = cluster == "cluster1";
  report.secret = report.local ? "" : "remote-" + cluster;
  report.connected = connected;
  report.synced = true;
  report.network = cluster + "-network";
  report.services = 3;
  report.endpoints = 7;
  report.last_error = connected ? "" : "connection refused";
  return report;
}

std::optional<json> Stored(const testsupport::MemoryObjectApi& api, const std::string& name) {
  return api.Find(RemoteClusterResource(), "istio-system", name);
}

struct Fixture {
  testsupport::MemoryObjectApi api;
  obs::Registry registry;
  ControllerMetrics metrics{registry};
  kube::ManualClock clock;
  StatusWriter writer{api, "istio-system", metrics, clock};
};

TEST_CASE("RemoteCluster status is created as ours and written only when it changes",
          "[status-writer]") {
  Fixture f;
  f.writer.Publish({Report("cluster1"), Report("cluster2")});
  auto remote = Stored(f.api, "cluster2");
  REQUIRE(remote);
  CHECK((*remote)["metadata"]["labels"][mesh::kManagedByLabel] == mesh::kManagedByValue);
  CHECK((*remote)["status"]["role"] == "remote");
  CHECK((*remote)["status"]["endpoints"] == 7);
  CHECK((*Stored(f.api, "cluster1"))["status"]["role"] == "local");
  const int writes = f.api.Writes();
  CHECK(writes == 4);  // a create and a status apply each

  f.writer.Publish({Report("cluster1"), Report("cluster2")});
  CHECK(f.api.Writes() == writes);

  f.writer.Publish({Report("cluster1"), Report("cluster2", false)});
  CHECK(f.api.Writes() == writes + 1);
  CHECK((*Stored(f.api, "cluster2"))["status"]["lastError"] == "connection refused");
}

TEST_CASE("A RemoteCluster someone else made is never written nor deleted", "[status-writer]") {
  Fixture f;
  const json foreign = {{"apiVersion", "globalsvc.io/v1alpha1"},
                        {"kind", "RemoteCluster"},
                        {"metadata", {{"name", "cluster2"}, {"namespace", "istio-system"}}},
                        {"spec", {{"note", "mine"}}}};
  (void)f.api.Seed(RemoteClusterResource(), foreign);
  f.writer.Publish({Report("cluster1"), Report("cluster2")});
  auto kept = Stored(f.api, "cluster2");
  REQUIRE(kept);
  CHECK_FALSE(kept->contains("status"));
  CHECK((*kept)["spec"]["note"] == "mine");

  // The cluster goes: ours is deleted, the foreign one stays.
  f.writer.Publish({Report("cluster1")});
  CHECK(Stored(f.api, "cluster2"));
  CHECK(f.api.Calls("delete") == 0);

  // Once the foreign object is gone, after the recheck, ours is made.
  CHECK(f.api.Delete(RemoteClusterResource(), "istio-system", "cluster2").ok());
  f.writer.Publish({Report("cluster1"), Report("cluster2")});
  CHECK_FALSE(Stored(f.api, "cluster2"));
  f.clock.Advance(StatusWriter::kForeignRecheck);
  f.writer.Publish({Report("cluster1"), Report("cluster2")});
  auto ours = Stored(f.api, "cluster2");
  REQUIRE(ours);
  CHECK((*ours)["status"]["role"] == "remote");
}

TEST_CASE("A gone cluster's RemoteCluster is deleted with the uid written", "[status-writer]") {
  Fixture f;
  f.writer.Publish({Report("cluster1"), Report("cluster2")});
  f.writer.Publish({Report("cluster1")});
  CHECK_FALSE(Stored(f.api, "cluster2"));

  // Replaced behind its back by a newer object of the same name: kept.
  f.writer.Publish({Report("cluster1"), Report("cluster3")});
  REQUIRE(f.api.Delete(RemoteClusterResource(), "istio-system", "cluster3").ok());
  json newer = {{"apiVersion", "globalsvc.io/v1alpha1"},
                {"kind", "RemoteCluster"},
                {"metadata",
                 {{"name", "cluster3"},
                  {"namespace", "istio-system"},
                  {"labels", {{mesh::kManagedByLabel, mesh::kManagedByValue}}}}}};
  (void)f.api.Seed(RemoteClusterResource(), newer);
  f.writer.Publish({Report("cluster1")});
  CHECK(Stored(f.api, "cluster3"));
  // Listed again after the failed precondition, it is the writer's to delete.
  f.writer.Publish({Report("cluster1")});
  CHECK_FALSE(Stored(f.api, "cluster3"));
}

TEST_CASE("Without the RemoteCluster CRD, status is skipped and tried again", "[status-writer]") {
  Fixture f;
  f.api.FailNext("list", MakeError(ErrorCode::kNotFound, "the server could not find the resource"));
  f.writer.Publish({Report("cluster1")});
  CHECK(f.api.Writes() == 0);
  f.writer.Publish({Report("cluster1")});
  CHECK(Stored(f.api, "cluster1"));
}

}  // namespace
}  // namespace globalsvc::controller
