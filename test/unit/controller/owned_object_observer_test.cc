// What the WorkloadEntry shape's observers hold: owner keys, ownership, the
// owned-field hash, and the keys handed on when objects change.

#include "controller/owned_object_observer.h"

#include <catch2/catch.hpp>

#include "lib/base/yaml_json.h"
#include "lib/mesh/istio_objects.h"

namespace globalsvc::controller {
namespace {

using kube::WatchEventType;

nlohmann::json Yaml(const std::string& text) {
  auto docs = ParseYamlDocuments(text);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  return (*docs)[0];
}

const char* kOwnedEntry = R"(
kind: WorkloadEntry
apiVersion: networking.istio.io/v1
metadata:
  name: autogen.httpbin.in-ambient.0123456789
  namespace: httpbin
  uid: u-1
  labels:
    app.kubernetes.io/managed-by: globalsvc
    solo.io/parent-service: in-ambient
    solo.io/parent-service-namespace: httpbin
spec: {address: 10.0.0.1}
)";

TEST_CASE("Owner keys: ours by label, a foreign object by the name we would write",
          "[controller][observer]") {
  CHECK(OwnerKeyOf(Yaml(kOwnedEntry)) == "httpbin/in-ambient");
  CHECK(OwnerKeyOf(Yaml(R"(
kind: Gateway
metadata: {name: anything, labels: {app.kubernetes.io/managed-by: globalsvc}}
)")) == std::string(kPeerGatewaysKey));
  // Not ours, with names globalsvc writes: noticed, under the key it would
  // have.
  CHECK(OwnerKeyOf(Yaml("kind: WorkloadEntry\nmetadata: {name: autogen.ns.svc.abc}\n")) ==
        "ns/svc");
  CHECK(OwnerKeyOf(Yaml("kind: ServiceEntry\nmetadata: {name: autogen.ns.svc}\n")) == "ns/svc");
  CHECK(OwnerKeyOf(Yaml("kind: Gateway\nmetadata: {name: globalsvc-remote-n2}\n")) ==
        std::string(kPeerGatewaysKey));
  // Anything else is none of our business.
  CHECK_FALSE(OwnerKeyOf(Yaml("kind: WorkloadEntry\nmetadata: {name: vm-1}\n")));
  CHECK_FALSE(OwnerKeyOf(Yaml("kind: ServiceEntry\nmetadata: {name: autogen.}\n")));
  CHECK_FALSE(OwnerKeyOf(Yaml("kind: ServiceEntry\nmetadata: {name: autogen.ns.}\n")));
  CHECK_FALSE(OwnerKeyOf(nlohmann::json::array()));
}

TEST_CASE("The observer holds ours and foreign objects in our way, and hands on their keys",
          "[controller][observer]") {
  std::vector<std::string> keys;
  OwnedObjectObserver observer(
      "networking.istio.io/v1", "WorkloadEntry",
      [&](std::vector<std::string> k) { keys.insert(keys.end(), k.begin(), k.end()); });
  CHECK_FALSE(observer.synced());
  observer.BeginReplace();
  // A list item of a built-in kind lacks kind and apiVersion: filled in, so
  // it hashes as the object that was written.
  auto listed = Yaml(kOwnedEntry);
  listed.erase("kind");
  listed.erase("apiVersion");
  observer.ReplaceItem(std::move(listed));
  observer.ReplaceItem(
      Yaml("metadata: {name: autogen.httpbin.in-ambient.ffff, namespace: "
           "httpbin}\nspec: {address: 10.0.0.2}\n"));
  observer.ReplaceItem(Yaml("metadata: {name: vm-1, namespace: httpbin}\n"));
  observer.EndReplace();
  CHECK(observer.synced());
  CHECK(keys == std::vector<std::string>{"httpbin/in-ambient", "httpbin/in-ambient"});

  auto ours = observer.Get("httpbin", "autogen.httpbin.in-ambient.0123456789");
  REQUIRE(ours);
  CHECK(ours->managed);
  CHECK(ours->uid == "u-1");
  CHECK(ours->content_hash == mesh::OwnedContentHash(Yaml(kOwnedEntry)));
  auto foreign = observer.Get("httpbin", "autogen.httpbin.in-ambient.ffff");
  REQUIRE(foreign);
  CHECK_FALSE(foreign->managed);
  CHECK_FALSE(observer.Get("httpbin", "vm-1"));
  // Only what is ours is owned (and deleted when not desired).
  const auto owned = observer.OwnedBy("httpbin/in-ambient");
  REQUIRE(owned.size() == 1);
  CHECK(owned[0].name == "autogen.httpbin.in-ambient.0123456789");
  CHECK(observer.OwnerKeys() == std::vector<std::string>{"httpbin/in-ambient"});

  // A delete by someone else hands the key on, to be repaired.
  keys.clear();
  observer.ApplyEvent(WatchEventType::kDeleted, Yaml(kOwnedEntry));
  CHECK(keys == std::vector<std::string>{"httpbin/in-ambient"});
  CHECK(observer.OwnedBy("httpbin/in-ambient").empty());
  // Our own write is known at once.
  observer.RecordWritten(Yaml(kOwnedEntry));
  CHECK(observer.OwnedBy("httpbin/in-ambient").size() == 1);
  observer.RecordDeleted("httpbin", "autogen.httpbin.in-ambient.0123456789");
  CHECK(observer.OwnedBy("httpbin/in-ambient").empty());
  // A relist that no longer lists an object forgets it and hands its key on.
  keys.clear();
  observer.BeginReplace();
  observer.EndReplace();
  CHECK(keys == std::vector<std::string>{"httpbin/in-ambient"});
  CHECK_FALSE(observer.Get("httpbin", "autogen.httpbin.in-ambient.ffff"));
}

TEST_CASE("An object whose owner label changes hands on both owners", "[controller][observer]") {
  std::vector<std::string> keys;
  OwnedObjectObserver observer(
      "networking.istio.io/v1", "WorkloadEntry",
      [&](std::vector<std::string> k) { keys.insert(keys.end(), k.begin(), k.end()); });
  observer.BeginReplace();
  observer.ReplaceItem(Yaml(kOwnedEntry));
  observer.EndReplace();
  keys.clear();

  // Someone relabels our object to another Service: the old owner lost an
  // object it wants, the new one holds an object it did not write.
  auto moved = Yaml(kOwnedEntry);
  moved["metadata"]["labels"]["solo.io/parent-service"] = "other";
  observer.ApplyEvent(WatchEventType::kModified, nlohmann::json(moved));
  CHECK(keys == std::vector<std::string>{"httpbin/in-ambient", "httpbin/other"});
  CHECK(observer.OwnedBy("httpbin/in-ambient").empty());
  CHECK(observer.OwnedBy("httpbin/other").size() == 1);

  // A change that keeps the owner hands it on once.
  keys.clear();
  moved["spec"]["address"] = "10.0.0.9";
  observer.ApplyEvent(WatchEventType::kModified, nlohmann::json(moved));
  CHECK(keys == std::vector<std::string>{"httpbin/other"});
}

}  // namespace
}  // namespace globalsvc::controller
