// After an upgrade from the old API group: globalsvc's objects there are
// deleted once with their uid, foreign ones kept; a cluster that does not
// serve the group has nothing to do; a retryable error is tried again.

#include "controller/legacy_status_cleanup.h"

#include <catch2/catch.hpp>

#include "controller/api_group.h"
#include "lib/mesh/model.h"
#include "lib/observability/metrics.h"
#include "test/support/memory_object_api.h"

namespace globalsvc::controller {
namespace {

using nlohmann::json;

kube::ResourceType Legacy(const std::string& resource) {
  return {kLegacyApiGroup, kApiGroupVersion, resource, true};
}

json Object(const std::string& kind, const std::string& name, bool ours) {
  json object = {{"apiVersion", std::string(kLegacyApiGroup) + "/" + kApiGroupVersion},
                 {"kind", kind},
                 {"metadata", {{"name", name}, {"namespace", "istio-system"}}}};
  if (ours) object["metadata"]["labels"] = {{mesh::kManagedByLabel, mesh::kManagedByValue}};
  return object;
}

struct Fixture {
  testsupport::MemoryObjectApi api;
  obs::Registry registry;
  ControllerMetrics metrics{registry};
  LegacyStatusCleanup cleanup{api, "istio-system", metrics};
};

TEST_CASE("Ours in the old API group are deleted once, foreign ones kept", "[legacy-cleanup]") {
  Fixture f;
  (void)f.api.Seed(Legacy("remoteclusters"), Object("RemoteCluster", "cluster2", true));
  (void)f.api.Seed(Legacy("remoteclusters"), Object("RemoteCluster", "someone", false));
  (void)f.api.Seed(Legacy("globalservices"), Object("GlobalService", "httpbin.in-ambient", true));

  CHECK(f.cleanup.Run().ok());
  CHECK(f.cleanup.done());
  CHECK_FALSE(f.api.Find(Legacy("remoteclusters"), "istio-system", "cluster2"));
  CHECK_FALSE(f.api.Find(Legacy("globalservices"), "istio-system", "httpbin.in-ambient"));
  CHECK(f.api.Find(Legacy("remoteclusters"), "istio-system", "someone"));
  CHECK(f.api.Calls("delete") == 2);

  // Done: later passes do not even list.
  const int lists = f.api.Calls("list");
  CHECK(f.cleanup.Run().ok());
  CHECK(f.api.Calls("list") == lists);
}

TEST_CASE("A cluster that does not serve the old group has nothing to clean up",
          "[legacy-cleanup]") {
  Fixture f;
  f.api.FailNext("list", MakeError(ErrorCode::kNotFound, "the server could not find the resource"));
  CHECK(f.cleanup.Run().ok());
  CHECK(f.cleanup.done());
}

TEST_CASE("A retryable error leaves the cleanup to the next pass; a terminal one gives up",
          "[legacy-cleanup]") {
  Fixture f;
  (void)f.api.Seed(Legacy("remoteclusters"), Object("RemoteCluster", "cluster2", true));
  f.api.FailNext("delete", MakeError(ErrorCode::kUnavailable, "etcd timeout"));
  CHECK_FALSE(f.cleanup.Run().ok());
  CHECK_FALSE(f.cleanup.done());
  CHECK(f.cleanup.Run().ok());
  CHECK_FALSE(f.api.Find(Legacy("remoteclusters"), "istio-system", "cluster2"));

  Fixture forbidden;
  forbidden.api.FailNext("list", MakeError(ErrorCode::kForbidden, "forbidden"));
  CHECK_FALSE(forbidden.cleanup.Run().ok());
  CHECK(forbidden.cleanup.done());
}

}  // namespace
}  // namespace globalsvc::controller
