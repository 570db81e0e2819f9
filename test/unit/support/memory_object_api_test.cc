// The in-memory object calls keep the API server's rules the writers' unit
// tests rely on: unique names, uid and resourceVersion preconditions, apply
// merges and conflicts, label selectors, watches in order.

#include "test/support/memory_object_api.h"

#include <catch2/catch.hpp>

namespace globalsvc::testsupport {
namespace {

using nlohmann::json;

// Records what a reflector sink is handed, as "list a", "ADDED a", ...
class RecordingSink final : public kube::ReflectorSink {
 public:
  void BeginReplace() override { seen.push_back("list"); }
  void ReplaceItem(json&& object) override {
    seen.back() += " " + object["metadata"]["name"].get<std::string>();
  }
  void EndReplace() override {}
  void AbortReplace() override {}
  void ApplyEvent(kube::WatchEventType type, json&& object) override {
    seen.push_back(std::string(kube::WatchEventTypeName(type)) + " " +
                   object["metadata"]["name"].get<std::string>() + "@" +
                   object["metadata"]["resourceVersion"].get<std::string>());
  }
  std::vector<std::string> seen;
};

const kube::ResourceType& Type() {
  return kube::resources::ConfigMaps();
}

json Object(const std::string& name, json labels = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "ns"}, {"labels", labels}}},
          {"data", {{"k", "v"}}}};
}

TEST_CASE("In memory: create, get and delete with preconditions", "[memory-api]") {
  MemoryObjectApi api;
  auto created = api.Create(Type(), "ns", Object("a"));
  REQUIRE(created.ok());
  const std::string uid = (*created)["metadata"]["uid"];
  CHECK_FALSE(uid.empty());
  auto again = api.Create(Type(), "ns", Object("a"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kConflict);
  CHECK(api.Get(Type(), "other", "a").error().code == ErrorCode::kNotFound);

  kube::DeleteOptions wrong;
  wrong.uid = "not-" + uid;
  CHECK(api.Delete(Type(), "ns", "a", wrong).error().code == ErrorCode::kConflict);
  CHECK(api.Get(Type(), "ns", "a").ok());
  kube::DeleteOptions right;
  right.uid = uid;
  CHECK(api.Delete(Type(), "ns", "a", right).ok());
  CHECK(api.Delete(Type(), "ns", "a", right).error().code == ErrorCode::kNotFound);
  CHECK(api.Writes() == 5);
}

TEST_CASE("In memory: updates are optimistic and status is its own subresource", "[memory-api]") {
  MemoryObjectApi api;
  json stored = *api.Create(Type(), "ns", Object("a"));
  json status = stored;
  status["status"] = {{"phase", "done"}};
  REQUIRE(api.UpdateStatus(Type(), "ns", status).ok());
  // A main update from the old version is stale.
  stored["data"]["k"] = "w";
  CHECK(api.Update(Type(), "ns", stored).error().code == ErrorCode::kConflict);
  stored["metadata"].erase("resourceVersion");
  auto updated = api.Update(Type(), "ns", stored);
  REQUIRE(updated.ok());
  CHECK((*updated)["data"]["k"] == "w");
  CHECK((*updated)["status"]["phase"] == "done");  // kept by a main update
}

TEST_CASE("In memory: apply merges labels per manager and conflicts unless forced",
          "[memory-api]") {
  MemoryObjectApi api;
  kube::ApplyOptions ours{"ours", false, ""};
  kube::ApplyOptions theirs{"theirs", false, ""};
  REQUIRE(api.Apply(Type(), "ns", Object("a", {{"x", "1"}, {"y", "1"}}), ours).ok());
  REQUIRE(api.Apply(Type(), "ns", Object("a", {{"z", "1"}}), theirs).ok());
  // Ours no longer names y: removed; theirs keeps z.
  auto applied = api.Apply(Type(), "ns", Object("a", {{"x", "2"}}), ours);
  REQUIRE(applied.ok());
  CHECK((*applied)["metadata"]["labels"] == json{{"x", "2"}, {"z", "1"}});

  json different = Object("a");
  different["data"]["k"] = "theirs";
  auto conflict = api.Apply(Type(), "ns", different, theirs);
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.error().code == ErrorCode::kConflict);
  theirs.force = true;
  CHECK((*api.Apply(Type(), "ns", different, theirs))["data"]["k"] == "theirs");
}

TEST_CASE("In memory: lists filter by namespace and label selector", "[memory-api]") {
  MemoryObjectApi api;
  (void)api.Seed(Type(), Object("a", {{"app", "x"}, {"tier", "1"}}));
  (void)api.Seed(Type(), Object("b", {{"app", "y"}}));
  json other = Object("c", {{"app", "x"}});
  other["metadata"]["namespace"] = "other";
  (void)api.Seed(Type(), other);
  const auto names = [&](std::string_view ns, const std::string& selector) {
    kube::ListOptions options;
    options.label_selector = selector;
    auto listed = api.List(Type(), ns, options);
    REQUIRE(listed.ok());
    std::vector<std::string> out;
    for (const auto& item : listed->items)
      out.push_back(item["metadata"]["name"]);
    return out;
  };
  CHECK(names("", "") == std::vector<std::string>{"a", "b", "c"});
  CHECK(names("ns", "") == std::vector<std::string>{"a", "b"});
  CHECK(names("", "app=x") == std::vector<std::string>{"a", "c"});
  CHECK(names("", "app!=x") == std::vector<std::string>{"b"});
  CHECK(names("", "tier") == std::vector<std::string>{"a"});
  CHECK(names("", "!tier,app=x") == std::vector<std::string>{"c"});
  kube::ListOptions fields;
  fields.field_selector = "metadata.name=a";
  CHECK(api.List(Type(), "", fields).error().code == ErrorCode::kInvalidInput);
}

TEST_CASE("In memory: a watch lists, then hands on every change in order, held or not",
          "[memory-api]") {
  MemoryObjectApi api;
  REQUIRE(api.Create(Type(), "ns", Object("a")).ok());
  REQUIRE(api.Create(Type(), "elsewhere", Object("x")).ok());
  RecordingSink sink;
  api.Watch(Type(), "ns", sink);
  CHECK(sink.seen == std::vector<std::string>{"list a"});

  auto b = api.Create(Type(), "ns", Object("b"));
  REQUIRE(b.ok());
  REQUIRE(api.Create(Type(), "elsewhere", Object("y")).ok());  // another namespace
  const std::string b_version = (*b)["metadata"]["resourceVersion"];
  REQUIRE(sink.seen.size() == 2);
  CHECK(sink.seen[1] == "ADDED b@" + b_version);

  api.HoldEvents(true);
  json changed = *b;
  changed["data"]["k"] = "w";
  auto updated = api.Update(Type(), "ns", changed);
  REQUIRE(updated.ok());
  REQUIRE(api.Delete(Type(), "ns", "a").ok());
  CHECK(sink.seen.size() == 2);  // held
  api.HoldEvents(false);
  REQUIRE(sink.seen.size() == 4);
  CHECK(sink.seen[2] ==
        "MODIFIED b@" + (*updated)["metadata"]["resourceVersion"].get<std::string>());
  CHECK(sink.seen[3].rfind("DELETED a@", 0) == 0);
}

TEST_CASE("In memory: an injected failure fails the next call of its verb only", "[memory-api]") {
  MemoryObjectApi api;
  api.FailNext("create", MakeError(ErrorCode::kUnavailable, "down"));
  CHECK(api.Create(Type(), "ns", Object("a")).error().code == ErrorCode::kUnavailable);
  CHECK(api.Create(Type(), "ns", Object("a")).ok());
  CHECK(api.Calls("create") == 2);
}

}  // namespace
}  // namespace globalsvc::testsupport
