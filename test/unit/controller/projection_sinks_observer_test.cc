// The ServiceEntry observer: the service keys ServiceEntry names map back to,
// ownership, and the hash of the fields we own.

#include <catch2/catch.hpp>

#include "controller/service_entry_observer.h"
#include "lib/mesh/service_entry.h"
#include "test/unit/controller/sink_test_support.h"

namespace globalsvc::controller {
namespace {

using kube::WatchEventType;

TEST_CASE("ServiceEntry names map back to service keys", "[controller][observer]") {
  CHECK(KeyOfServiceEntryName("autogen.httpbin.in-ambient") == "httpbin/in-ambient");
  CHECK(KeyOfServiceEntryName("autogen.ns.svc.with.dots") == "ns/svc.with.dots");
  CHECK_FALSE(KeyOfServiceEntryName("autogen.nodot"));
  CHECK_FALSE(KeyOfServiceEntryName("autogen..x"));
  CHECK_FALSE(KeyOfServiceEntryName("autogen.ns."));
  CHECK_FALSE(KeyOfServiceEntryName("user-entry"));
}

TEST_CASE("The observer tracks ownership and the owned-fields hash", "[controller][observer]") {
  std::vector<std::string> keys;
  ServiceEntryObserver observer(
      [&](std::vector<std::string> k) { keys.insert(keys.end(), k.begin(), k.end()); });
  auto entry = Yaml(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: autogen.ns.a
  namespace: istio-system
  uid: u1
  resourceVersion: "7"
  labels: {app.kubernetes.io/managed-by: globalsvc, team: extra}
spec: {hosts: [a.ns.mesh.internal], exportTo: ["*"]}
)");
  observer.BeginReplace();
  observer.ReplaceItem(nlohmann::json(entry));
  observer.ReplaceItem(
      Yaml("kind: ServiceEntry\nmetadata: {name: unrelated, namespace: istio-system}\n"));
  observer.EndReplace();
  CHECK(observer.synced());
  CHECK(keys == std::vector<std::string>{"ns/a"});
  auto seen = observer.Get("autogen.ns.a");
  REQUIRE(seen);
  CHECK(seen->managed);
  CHECK(seen->uid == "u1");
  // Fields other writers add do not change the hash.
  auto edited = entry;
  edited["metadata"]["labels"]["team"] = "other";
  edited["spec"]["exportTo"] = {"."};
  edited["status"] = {{"addresses", nlohmann::json::array()}};
  CHECK(mesh::ContentHash(edited) == seen->content_hash);
  edited["spec"]["hosts"] = {"b.ns.mesh.internal"};
  CHECK(mesh::ContentHash(edited) != seen->content_hash);
  CHECK(observer.ManagedKeys() == std::vector<std::string>{"ns/a"});
  observer.ApplyEvent(WatchEventType::kDeleted, nlohmann::json(entry));
  CHECK_FALSE(observer.Get("autogen.ns.a"));
}

}  // namespace
}  // namespace globalsvc::controller
