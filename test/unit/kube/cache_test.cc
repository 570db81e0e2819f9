#include "lib/kube/cache.h"

#include <catch2/catch.hpp>

namespace globalsvc::kube {
namespace {

using nlohmann::json;

struct Slice {
  std::string service;
  std::vector<std::string> addresses;
  bool operator==(const Slice&) const = default;
};

Slice Project(const json& object) {
  Slice slice;
  slice.service = object["metadata"]["labels"].value("kubernetes.io/service-name", "");
  for (const auto& endpoint : object.value("endpoints", json::array())) {
    slice.addresses.push_back(endpoint["addresses"][0].get<std::string>());
  }
  return slice;
}

json Object(const std::string& name, const std::string& rv, const std::string& service,
            const std::string& address, const std::string& noise = "") {
  return {{"metadata",
           {{"name", name},
            {"namespace", "ns"},
            {"resourceVersion", rv},
            {"labels", {{"kubernetes.io/service-name", service}}},
            {"annotations", {{"noise", noise}}}}},
          {"endpoints", json::array({{{"addresses", {address}}}})}};
}

struct Recorder {
  std::vector<std::string> log;
  void operator()(const CacheChange<Slice>& change) {
    const char* kind = !change.old_value ? "add" : !change.new_value ? "delete" : "update";
    log.push_back(std::string(kind) + " " + change.key);
  }
};

TEST_CASE("Cache stores projections, indexes them and reports changes", "[kube][cache]") {
  Cache<Slice> cache(Project);
  cache.AddIndex("service", [](const Slice& s) { return std::vector<std::string>{s.service}; });
  Recorder recorder;
  cache.AddChangeHandler([&](const CacheChange<Slice>& c) { recorder(c); });
  CHECK_FALSE(cache.HasSynced());

  cache.BeginReplace();
  cache.ReplaceItem(Object("a", "1", "svc1", "10.0.0.1"));
  cache.ReplaceItem(Object("b", "2", "svc2", "10.0.0.2"));
  cache.EndReplace();
  CHECK(cache.HasSynced());
  CHECK(cache.size() == 2);
  CHECK(cache.Get("ns/a")->addresses == std::vector<std::string>{"10.0.0.1"});
  CHECK(cache.ByIndex("service", "svc2").size() == 1);

  cache.ApplyEvent(WatchEventType::kModified, Object("b", "3", "svc1", "10.0.0.3"));
  CHECK(cache.ByIndex("service", "svc2").empty());
  CHECK(cache.ByIndex("service", "svc1").size() == 2);
  // A change outside the projection updates the version but reports nothing.
  cache.ApplyEvent(WatchEventType::kModified, Object("b", "4", "svc1", "10.0.0.3", "x"));
  CHECK(cache.HasVersion("ns/b", "4"));
  CHECK_FALSE(cache.HasVersion("ns/b", "3"));
  cache.ApplyEvent(WatchEventType::kDeleted, Object("a", "5", "svc1", "10.0.0.1"));
  CHECK(cache.Get("ns/a") == nullptr);
  CHECK(recorder.log ==
        std::vector<std::string>{"add ns/a", "add ns/b", "update ns/b", "delete ns/a"});
}

TEST_CASE("A relist reports only differences: no delete for objects that still exist",
          "[kube][cache]") {
  Cache<Slice> cache(Project);
  Recorder recorder;
  cache.AddChangeHandler([&](const CacheChange<Slice>& c) { recorder(c); });
  cache.BeginReplace();
  for (const char* name : {"keep", "change", "gone"})
    cache.ReplaceItem(Object(name, "1", "s", "10.0.0.1"));
  cache.EndReplace();
  recorder.log.clear();

  cache.BeginReplace();
  cache.ReplaceItem(Object("keep", "1", "s", "10.0.0.1"));
  cache.ReplaceItem(Object("change", "7", "s", "10.0.0.7"));
  cache.ReplaceItem(Object("new", "8", "s", "10.0.0.8"));
  cache.EndReplace();
  std::sort(recorder.log.begin(), recorder.log.end());
  CHECK(recorder.log ==
        std::vector<std::string>{"add ns/new", "delete ns/gone", "update ns/change"});
  CHECK(cache.size() == 3);

  // An aborted list changes nothing.
  recorder.log.clear();
  cache.BeginReplace();
  cache.ReplaceItem(Object("other", "9", "s", "10.0.0.9"));
  cache.AbortReplace();
  CHECK(recorder.log.empty());
  CHECK(cache.size() == 3);
}

TEST_CASE("A projection may skip objects: they are not kept, and one that becomes skipped goes",
          "[kube][cache]") {
  // Only slices of services whose name starts with "keep" are kept.
  Cache<Slice> cache([](const json& object) -> std::optional<Slice> {
    Slice slice = Project(object);
    if (slice.service.rfind("keep", 0) != 0) return std::nullopt;
    return slice;
  });
  Recorder recorder;
  cache.AddChangeHandler([&](const CacheChange<Slice>& c) { recorder(c); });
  cache.BeginReplace();
  cache.ReplaceItem(Object("a", "1", "keep-1", "10.0.0.1"));
  cache.ReplaceItem(Object("b", "2", "other", "10.0.0.2"));
  cache.EndReplace();
  CHECK(cache.Keys() == std::vector<std::string>{"ns/a"});
  CHECK(recorder.log == std::vector<std::string>{"add ns/a"});

  cache.ApplyEvent(WatchEventType::kModified, Object("b", "3", "other", "10.0.0.3"));
  CHECK(cache.size() == 1);
  // Relabelled away: as if deleted.
  cache.ApplyEvent(WatchEventType::kModified, Object("a", "4", "other", "10.0.0.1"));
  CHECK(cache.size() == 0);
  CHECK(recorder.log == std::vector<std::string>{"add ns/a", "delete ns/a"});
}

TEST_CASE("The writer's own write is recorded at once, and its watch event is no change",
          "[kube][cache]") {
  Cache<Slice> cache(Project);
  Recorder recorder;
  cache.AddChangeHandler([&](const CacheChange<Slice>& c) { recorder(c); });
  cache.BeginReplace();
  cache.EndReplace();

  cache.Record(Object("a", "5", "svc1", "10.0.0.1"));
  REQUIRE(cache.Get("ns/a"));
  CHECK(cache.HasVersion("ns/a", "5"));
  CHECK(recorder.log.empty());
  cache.ApplyEvent(WatchEventType::kAdded, Object("a", "5", "svc1", "10.0.0.1"));
  CHECK(recorder.log.empty());
  // Someone else's change after it is reported.
  cache.ApplyEvent(WatchEventType::kModified, Object("a", "6", "svc1", "10.0.0.9"));
  CHECK(recorder.log == std::vector<std::string>{"update ns/a"});

  cache.Forget("ns/a");
  CHECK_FALSE(cache.Get("ns/a"));
  cache.ApplyEvent(WatchEventType::kDeleted, Object("a", "7", "svc1", "10.0.0.9"));
  CHECK(recorder.log == std::vector<std::string>{"update ns/a"});
  // Bookmarks and errors carry no object to store.
  cache.ApplyEvent(WatchEventType::kBookmark, Object("z", "8", "svc1", "10.0.0.1"));
  CHECK(cache.size() == 0);
}

TEST_CASE("A batch handler hears all the changes of a list at once, and of each event",
          "[kube][cache]") {
  Cache<Slice> cache(Project);
  std::vector<std::size_t> batches;
  cache.AddBatchHandler(
      [&](const std::vector<CacheChange<Slice>>& changes) { batches.push_back(changes.size()); });
  cache.BeginReplace();
  cache.ReplaceItem(Object("b", "1", "svc1", "10.0.0.1"));
  cache.ReplaceItem(Object("a", "2", "svc2", "10.0.0.2"));
  cache.EndReplace();
  CHECK(batches == std::vector<std::size_t>{2});
  const auto items = cache.Items();
  REQUIRE(items.size() == 2);
  CHECK(items[0].first == "ns/a");
  CHECK(items[1].second->service == "svc1");

  // A relist without differences, and an event without one, are no batch.
  cache.BeginReplace();
  cache.ReplaceItem(Object("b", "1", "svc1", "10.0.0.1"));
  cache.ReplaceItem(Object("a", "2", "svc2", "10.0.0.2"));
  cache.EndReplace();
  cache.ApplyEvent(WatchEventType::kModified, Object("a", "3", "svc2", "10.0.0.2", "noise"));
  CHECK(batches == std::vector<std::size_t>{2});
  cache.ApplyEvent(WatchEventType::kDeleted, Object("a", "4", "svc2", "10.0.0.2"));
  CHECK(batches == std::vector<std::size_t>{2, 1});
}

}  // namespace
}  // namespace globalsvc::kube
