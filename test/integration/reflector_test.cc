// Reflector + Cache against a real kube-apiserver: sync, watch, bookmarks,
// 410 relist without spurious deletes, API server restarts, and refusals that
// must back off instead of spinning.

#include "lib/kube/reflector.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "lib/kube/cache.h"
#include "test/integration/kube_test_bed.h"

namespace globalsvc::kube {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using testing::ConfigMap;
using testing::Eventually;
using testing::MakeClient;
using testing::RequireTestBed;
using testing::ScratchNamespace;

struct ConfigMapView {
  std::string value;
  bool operator==(const ConfigMapView&) const = default;
};

ConfigMapView Project(const json& object) {
  return {object.contains("data") ? object["data"].value("value", "") : ""};
}

// Every change the cache reports, as "add|update|delete key".
struct ChangeLog {
  std::mutex mutex;
  std::vector<std::string> entries;
  void Attach(Cache<ConfigMapView>& cache) {
    cache.AddChangeHandler([this](const CacheChange<ConfigMapView>& change) {
      std::lock_guard lock(mutex);
      entries.push_back(std::string(!change.old_value   ? "add "
                                    : !change.new_value ? "delete "
                                                        : "update ") +
                        change.key);
    });
  }
  std::vector<std::string> Take() {
    std::lock_guard lock(mutex);
    return std::exchange(entries, {});
  }
};

// Whether the cache holds exactly the server's ConfigMaps with their values.
bool CacheEqualsServer(KubeClient& client, const std::string& ns, const Cache<ConfigMapView>& cache,
                       std::string* why = nullptr) {
  ListOptions options;
  options.label_selector = testing::kTestSelector;
  auto list = client.List(resources::ConfigMaps(), ns, options);
  if (!list.ok()) return false;
  if (list->items.size() != cache.size()) {
    if (why)
      *why = "server has " + std::to_string(list->items.size()) + ", cache " +
             std::to_string(cache.size());
    return false;
  }
  for (const auto& item : list->items) {
    const auto cached = cache.Get(ObjectKey(item));
    if (!cached || !(*cached == Project(item))) {
      if (why) *why = "differs at " + ObjectKey(item);
      return false;
    }
  }
  return true;
}

ReflectorOptions Options(const std::string& ns) {
  ReflectorOptions options;
  options.namespace_name = ns;
  options.list.limit = 100;
  options.list.label_selector = testing::kTestSelector;
  options.backoff = {200ms, 2000ms, 2.0, 0.5};
  return options;
}

TEST_CASE("Reflector syncs, follows changes, restarts watches and sees bookmarks",
          "[integration][reflector]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-reflector");
  for (int i = 0; i < 250; ++i) {
    REQUIRE(client
                ->Create(resources::ConfigMaps(), ns.name(),
                         ConfigMap(ns.name(), "pre-" + std::to_string(i), "v"))
                .ok());
  }
  Cache<ConfigMapView> cache(Project);
  ChangeLog log;
  log.Attach(cache);
  auto options = Options(ns.name());
  options.watch_timeout = 3s;  // several watch restarts, each ending with a bookmark
  Reflector reflector(*client, resources::ConfigMaps(), cache, options);
  reflector.Start();
  REQUIRE(cache.WaitForSync(30s));
  CHECK(cache.size() == 250);
  log.Take();

  auto created = client->Create(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "x", "1"));
  REQUIRE(created.ok());
  (*created)["data"]["value"] = "2";
  REQUIRE(client->Update(resources::ConfigMaps(), ns.name(), *created).ok());
  REQUIRE(client->Delete(resources::ConfigMaps(), ns.name(), "pre-0").ok());
  const std::string x = ns.name() + "/x";
  REQUIRE(Eventually(10s, [&] {
    auto value = cache.Get(x);
    return value && value->value == "2" && !cache.Get(ns.name() + "/pre-0");
  }));
  CHECK(log.Take() ==
        std::vector<std::string>{"add " + x, "update " + x, "delete " + ns.name() + "/pre-0"});

  // Several watches end and resume; bookmarks are best effort, so wait for one
  // (under ThreadSanitizer on a loaded machine the first took over 60 s).
  REQUIRE(Eventually(180s, [&] {
    const auto stats = reflector.stats();
    return stats.watches >= 3 && stats.bookmarks >= 1;
  }));
  REQUIRE(
      client->Create(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "late", "1")).ok());
  REQUIRE(Eventually(10s, [&] { return cache.Get(ns.name() + "/late") != nullptr; }));
  const auto stats = reflector.stats();
  CHECK(stats.lists == 1);  // watches resumed from their last version, no relist
  CHECK(stats.bookmarks >= 1);
  CHECK(stats.errors == 0);
  std::string why;
  CHECK(CacheEqualsServer(*client, ns.name(), cache, &why));
  INFO(why);
}

TEST_CASE("A requested relist lists again once per burst, then watches on",
          "[integration][reflector]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-relist");
  for (int i = 0; i < 120; ++i) {
    REQUIRE(client
                ->Create(resources::ConfigMaps(), ns.name(),
                         ConfigMap(ns.name(), "cm-" + std::to_string(i), "v"))
                .ok());
  }
  Cache<ConfigMapView> cache(Project);
  ChangeLog log;
  log.Attach(cache);
  auto options = Options(ns.name());
  options.min_relist_interval = 500ms;
  Reflector reflector(*client, resources::ConfigMaps(), cache, options);
  // Whoever the list's changes reach already sees the list counted.
  std::atomic<int> lists_seen_by_handler{-1};
  cache.AddChangeHandler([&](const CacheChange<ConfigMapView>&) {
    lists_seen_by_handler = static_cast<int>(reflector.stats().lists);
  });
  reflector.Start();
  REQUIRE(cache.WaitForSync(30s));
  log.Take();
  REQUIRE(reflector.stats().lists == 1);
  CHECK(lists_seen_by_handler == 1);

  for (int i = 0; i < 5; ++i)
    reflector.Relist();
  REQUIRE(Eventually(30s, [&] { return reflector.stats().lists >= 2; }));
  std::this_thread::sleep_for(1500ms);  // a second list would have started by now
  auto stats = reflector.stats();
  CHECK(stats.lists == 2);
  CHECK(stats.requested_relists == 1);
  CHECK(stats.errors == 0);
  CHECK(log.Take().empty());  // the same objects again: no change to report

  // The watch resumes from the new list.
  REQUIRE(
      client->Create(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "late", "1")).ok());
  REQUIRE(Eventually(10s, [&] { return cache.Get(ns.name() + "/late") != nullptr; }));
  CHECK(reflector.stats().lists == 2);
  std::string why;
  CHECK(CacheEqualsServer(*client, ns.name(), cache, &why));
  INFO(why);
}

// Compacts the cluster's etcd up to its current revision, so every older
// resourceVersion is gone for good.
void CompactEtcd(const testing::KubeTestBed& tb) {
  const std::string url = "http://127.0.0.1:" + tb.bed->ClusterValue(tb.cluster, "ETCD_PORT");
  const auto range = testsupport::RunCommand(
      {"curl", "-sS", "-X", "POST", url + "/v3/kv/range", "-d", R"({"key":"AA=="})"});
  REQUIRE(range.ok());
  const auto revision = json::parse(range.out)["header"]["revision"].get<std::string>();
  const auto compact =
      testsupport::RunCommand({"curl", "-sS", "-X", "POST", url + "/v3/kv/compaction", "-d",
                               R"({"revision":")" + revision + R"(","physical":true})"});
  REQUIRE(compact.ok());
  INFO(compact.out);
  CHECK(compact.out.find("error") == std::string::npos);
}

TEST_CASE("410 Gone relists and the cache ends equal to the server without spurious deletes",
          "[integration][reflector]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-gone");
  for (int i = 0; i < 300; ++i) {
    REQUIRE(client
                ->Create(resources::ConfigMaps(), ns.name(),
                         ConfigMap(ns.name(), "cm-" + std::to_string(i), "v1"))
                .ok());
  }
  Cache<ConfigMapView> cache(Project);
  ChangeLog log;
  log.Attach(cache);
  std::string old_version;
  {
    Reflector first(*client, resources::ConfigMaps(), cache, Options(ns.name()));
    first.Start();
    REQUIRE(cache.WaitForSync(30s));
    old_version = first.resource_version();
  }
  log.Take();

  // While nobody watches: one delete, one update, one add, then compaction
  // removes the history the old version would need.
  REQUIRE(client->Delete(resources::ConfigMaps(), ns.name(), "cm-1").ok());
  auto changed = client->Get(resources::ConfigMaps(), ns.name(), "cm-2");
  REQUIRE(changed.ok());
  (*changed)["data"]["value"] = "v2";
  REQUIRE(client->Update(resources::ConfigMaps(), ns.name(), *changed).ok());
  REQUIRE(
      client->Create(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "new", "v1")).ok());
  for (int i = 0; i < 20; ++i) {  // move well past the old version
    REQUIRE(client
                ->Apply(resources::ConfigMaps(), "default",
                        ConfigMap("default", "kube-gone-churn", std::to_string(i)),
                        ApplyOptions{"test", true, ""})
                .ok());
  }
  CompactEtcd(tb);

  // A watch cache keeps its history back to its own first list, which on a
  // young API server reaches the very first version. A restarted one lists
  // again at the current version, so the old version is gone for sure.
  REQUIRE(tb.bed->StopComponent(tb.cluster, testsupport::Component::kApiServer, false).ok());
  REQUIRE(tb.bed->StartComponent(tb.cluster, testsupport::Component::kApiServer).ok());
  auto options = Options(ns.name());
  options.resume_from = old_version;
  Reflector resumed(*client, resources::ConfigMaps(), cache, options);
  resumed.Start();
  // The list is counted just before the cache reports its changes, so wait
  // for the changes themselves; spurious ones arrive in the same report.
  std::vector<std::string> changes;
  REQUIRE(Eventually(30s, [&] {
    for (auto& change : log.Take())
      changes.push_back(std::move(change));
    return resumed.stats().lists >= 1 && changes.size() >= 3;
  }));
  CHECK(resumed.stats().gone_relists >= 1);
  std::string why;
  CHECK(CacheEqualsServer(*client, ns.name(), cache, &why));
  INFO(why);
  for (auto& change : log.Take())
    changes.push_back(std::move(change));  // any late spurious one
  std::sort(changes.begin(), changes.end());
  CHECK(changes == std::vector<std::string>{"add " + ns.name() + "/new",
                                            "delete " + ns.name() + "/cm-1",
                                            "update " + ns.name() + "/cm-2"});
  (void)client->Delete(resources::ConfigMaps(), "default", "kube-gone-churn");
}

TEST_CASE("Reflector recovers when the API server is killed and restarted",
          "[integration][reflector]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-restart");
  Cache<ConfigMapView> cache(Project);
  Reflector reflector(*client, resources::ConfigMaps(), cache, Options(ns.name()));
  reflector.Start();
  REQUIRE(cache.WaitForSync(30s));
  REQUIRE(
      client->Create(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "before", "1")).ok());
  REQUIRE(Eventually(10s, [&] { return cache.Get(ns.name() + "/before") != nullptr; }));

  REQUIRE(
      tb.bed->StopComponent(tb.cluster, testsupport::Component::kApiServer, /*kill=*/true).ok());
  const auto down_since = std::chrono::steady_clock::now();
  REQUIRE(Eventually(20s, [&] { return reflector.stats().errors >= 1; }));
  REQUIRE(tb.bed->StartComponent(tb.cluster, testsupport::Component::kApiServer).ok());
  const auto down_for = std::chrono::steady_clock::now() - down_since;

  // Backoff (200 ms doubling to 2 s) bounds the attempts while it was down.
  const auto errors = reflector.stats().errors;
  const auto seconds_down = std::chrono::duration_cast<std::chrono::seconds>(down_for).count();
  INFO("errors " << errors << " in " << seconds_down << " s down");
  CHECK(errors <= static_cast<std::uint64_t>(6 + seconds_down));

  REQUIRE(
      client->Create(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "after", "1")).ok());
  std::string why;
  REQUIRE(Eventually(30s, [&] { return CacheEqualsServer(*client, ns.name(), cache, &why); }));
  INFO(why);
  CHECK(cache.Get(ns.name() + "/after") != nullptr);
}

TEST_CASE("Forbidden and unauthorized reflectors back off instead of spinning",
          "[integration][reflector]") {
  auto& tb = RequireTestBed();
  ClusterConfig config = tb.config;
  config.auth = AuthConfig{};
  config.auth.token = "bogus";
  auto client = MakeClient(config);
  Cache<ConfigMapView> cache(Project);
  auto options = Options("kube-system");
  options.backoff = {500ms, 30'000ms, 2.0, 0.0};
  Reflector reflector(*client, resources::ConfigMaps(), cache, options);
  reflector.Start();
  // Attempts at 0, 0.5, 1.5, 3.5 s: at most four in four seconds.
  REQUIRE(Eventually(10s, [&] { return reflector.stats().errors >= 1; }));
  std::this_thread::sleep_for(4s);  // observation window, not synchronisation
  const auto stats = reflector.stats();
  reflector.Stop();
  CHECK(stats.errors <= 5);
  CHECK_THAT(stats.last_error, Catch::Contains("401"));
  CHECK_FALSE(cache.HasSynced());
}

}  // namespace
}  // namespace globalsvc::kube

namespace globalsvc::kube {
namespace {

TEST_CASE("Reflector of a resource type the server does not serve holds nothing, synced",
          "[integration][reflector]") {
  auto& tb = testing::RequireTestBed();
  auto client = testing::MakeClient(tb.config);
  const ResourceType absent{"absent.globalsvc.test", "v1", "widgets", true};
  Cache<ConfigMapView> cache(Project);
  ReflectorOptions options;
  options.namespace_name = "default";
  options.backoff = {std::chrono::milliseconds(100), std::chrono::milliseconds(200), 2.0, 0.5};
  options.absent_relist_interval = std::chrono::seconds(1);
  Reflector reflector(*client, absent, cache, options);
  reflector.Start();
  REQUIRE(cache.WaitForSync(std::chrono::seconds(30)));
  CHECK(cache.size() == 0);
  // Looked for again, never counted as a failure.
  REQUIRE(
      testing::Eventually(std::chrono::seconds(10), [&] { return reflector.stats().lists >= 3; }));
  CHECK(reflector.stats().errors == 0);
  CHECK(reflector.stats().last_error.empty());

  // Without the option the same answer is a failure.
  Cache<ConfigMapView> strict_cache(Project);
  options.absent_relist_interval = std::chrono::seconds(0);
  Reflector strict(*client, absent, strict_cache, options);
  strict.Start();
  REQUIRE(
      testing::Eventually(std::chrono::seconds(10), [&] { return strict.stats().errors >= 1; }));
  CHECK_FALSE(strict_cache.HasSynced());
}

}  // namespace
}  // namespace globalsvc::kube
