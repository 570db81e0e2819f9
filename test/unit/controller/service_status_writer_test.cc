// GlobalService objects through the status writer's own thread, against the
// object calls kept in memory (whose watch feeds the writer, as the
// reflector does) and a clock moved by hand: written once per change, deleted
// with the service, never over a foreign object, changes made by others
// handed on at once, echoes of its own writes not.

#include "controller/service_status_writer.h"

#include <catch2/catch.hpp>
#include <thread>

#include "controller/api_group.h"
#include "lib/mesh/model.h"
#include "lib/observability/metrics.h"
#include "test/support/memory_object_api.h"

namespace globalsvc::controller {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Polls `done` for up to a minute of real time: the writer's thread does the
// work; a slow machine only makes the test slower.
template <typename Done>
bool Eventually(Done done) {
  for (int i = 0; i < 6000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

std::optional<json> Object(const testsupport::MemoryObjectApi& api, const std::string& name) {
  return api.Find(GlobalServiceResource(), "istio-system", name);
}

bool HasStatus(const testsupport::MemoryObjectApi& api, const std::string& name) {
  auto object = Object(api, name);
  return object && object->contains("status");
}

json Status(int endpoints) {
  return {{"scope", "global"}, {"endpoints", endpoints}};
}

struct Fixture {
  Fixture() {
    ServiceStatusWriterOptions options;
    options.namespace_name = "istio-system";
    options.clock = &clock;
    writer = std::make_unique<ServiceStatusWriter>(
        api, options, metrics, [] { return true; },
        [this](std::vector<std::string> k) {
          std::lock_guard lock(keys_mutex);
          keys.insert(keys.end(), k.begin(), k.end());
        });
  }
  ~Fixture() { writer->Stop(); }
  // The reflector's part: the list, then every change.
  void Watch() { api.Watch(GlobalServiceResource(), "istio-system", *writer); }
  std::vector<std::string> Keys() {
    std::lock_guard lock(keys_mutex);
    return keys;
  }
  double Pending() { return metrics.registry.AddGauge("globalsvc_status_pending", "").Value(); }

  testsupport::MemoryObjectApi api;
  obs::Registry registry;
  ControllerMetrics metrics{registry};
  kube::ManualClock clock;
  std::mutex keys_mutex;
  std::vector<std::string> keys;
  std::unique_ptr<ServiceStatusWriter> writer;
};

TEST_CASE("A GlobalService is created as ours, written once per change, deleted with it",
          "[service-status]") {
  Fixture f;
  f.Watch();
  f.writer->Start();
  f.writer->Set("httpbin/in-ambient", Status(3));
  REQUIRE(Eventually([&] { return HasStatus(f.api, "httpbin.in-ambient"); }));
  auto object = *Object(f.api, "httpbin.in-ambient");
  CHECK(object["metadata"]["labels"][mesh::kManagedByLabel] == mesh::kManagedByValue);
  CHECK(object["metadata"]["labels"][mesh::kParentServiceLabel] == "in-ambient");
  CHECK(object["status"]["endpoints"] == 3);
  CHECK(object["status"].contains("lastChangeTime"));
  REQUIRE(Eventually([&] { return f.Pending() == 0; }));
  CHECK(f.api.Writes() == 2);  // the create and the status

  // The same status again stops at Set(): nothing pending, nothing written.
  f.writer->Set("httpbin/in-ambient", Status(3));
  CHECK(f.Pending() == 0);

  f.writer->Set("httpbin/in-ambient", Status(4));
  REQUIRE(Eventually(
      [&] { return (*Object(f.api, "httpbin.in-ambient"))["status"]["endpoints"] == 4; }));
  CHECK(f.api.Writes() == 3);

  f.writer->Set("httpbin/in-ambient", std::nullopt);
  REQUIRE(Eventually([&] { return !Object(f.api, "httpbin.in-ambient"); }));
  CHECK(f.api.Calls("delete") == 1);
}

TEST_CASE("A GlobalService someone else made is never written nor deleted", "[service-status]") {
  Fixture f;
  (void)f.api.Seed(GlobalServiceResource(),
                   {{"apiVersion", kApiVersion},
                    {"kind", "GlobalService"},
                    {"metadata", {{"name", "httpbin.theirs"}, {"namespace", "istio-system"}}},
                    {"spec", {{"note", "mine"}}}});
  f.Watch();
  f.writer->Start();
  f.writer->Set("httpbin/theirs", Status(1));
  // Written in name order: once the later one is written, the foreign one
  // has been passed over.
  f.writer->Set("zzz/later", Status(1));
  REQUIRE(Eventually([&] { return Object(f.api, "zzz.later").has_value(); }));
  f.writer->Set("httpbin/theirs", std::nullopt);
  f.writer->Set("zzz/later", std::nullopt);
  REQUIRE(Eventually([&] { return !Object(f.api, "zzz.later"); }));
  auto theirs = Object(f.api, "httpbin.theirs");
  REQUIRE(theirs);
  CHECK_FALSE(theirs->contains("status"));
  CHECK((*theirs)["spec"]["note"] == "mine");
}

TEST_CASE("Nothing is written before the first list", "[service-status]") {
  Fixture f;
  f.writer->Start();
  f.writer->Set("httpbin/in-ambient", Status(3));
  f.clock.Advance(10s);
  std::this_thread::sleep_for(50ms);
  CHECK(f.api.Writes() == 0);
  f.Watch();
  REQUIRE(Eventually([&] { return HasStatus(f.api, "httpbin.in-ambient"); }));
}

TEST_CASE("The first list hands on the keys of objects an earlier run left", "[service-status]") {
  Fixture f;
  f.writer->Start();
  f.writer->Set("httpbin/in-ambient", Status(3));
  (void)f.api.Seed(GlobalServiceResource(),
                   {{"apiVersion", kApiVersion},
                    {"kind", "GlobalService"},
                    {"metadata",
                     {{"name", "httpbin.gone"},
                      {"namespace", "istio-system"},
                      {"labels", {{mesh::kManagedByLabel, mesh::kManagedByValue}}}}}});
  f.Watch();
  REQUIRE(Eventually([&] { return !f.Keys().empty(); }));
  CHECK(f.Keys() == std::vector<std::string>{"httpbin/gone"});
}

TEST_CASE("An edit or delete by someone else hands the key on at once; our own echoes do not",
          "[service-status]") {
  Fixture f;
  f.Watch();
  f.writer->Start();
  f.writer->Set("httpbin/in-ambient", Status(3));
  REQUIRE(Eventually([&] { return HasStatus(f.api, "httpbin.in-ambient"); }));
  REQUIRE(Eventually([&] { return f.Pending() == 0; }));
  // Our create and status write came back as events: no key, no write more.
  CHECK(f.Keys().empty());
  CHECK(f.api.Writes() == 2);

  json edited = *Object(f.api, "httpbin.in-ambient");
  edited["status"]["endpoints"] = 99;
  REQUIRE(f.api.UpdateStatus(GlobalServiceResource(), "istio-system", edited).ok());
  REQUIRE(Eventually([&] { return !f.Keys().empty(); }));
  CHECK(f.Keys() == std::vector<std::string>{"httpbin/in-ambient"});
  // The reconcile that follows hands the same status again: written back.
  f.writer->Set("httpbin/in-ambient", Status(3));
  REQUIRE(Eventually(
      [&] { return (*Object(f.api, "httpbin.in-ambient"))["status"]["endpoints"] == 3; }));

  REQUIRE(f.api.Delete(GlobalServiceResource(), "istio-system", "httpbin.in-ambient").ok());
  REQUIRE(Eventually([&] { return f.Keys().size() == 2; }));
  f.writer->Set("httpbin/in-ambient", Status(3));
  REQUIRE(Eventually([&] { return HasStatus(f.api, "httpbin.in-ambient"); }));
}

TEST_CASE("A change by someone else while our write is under way hands the key on",
          "[service-status]") {
  Fixture f;
  f.Watch();
  f.writer->Start();
  f.writer->Set("httpbin/in-ambient", Status(3));
  REQUIRE(Eventually([&] { return HasStatus(f.api, "httpbin.in-ambient"); }));
  REQUIRE(Eventually([&] { return f.Pending() == 0; }));
  REQUIRE(f.Keys().empty());
  // Someone edits the status just before our next write of it lands.
  f.api.BeforeNext("apply", [&] {
    json edited = *Object(f.api, "httpbin.in-ambient");
    edited["status"]["note"] = "theirs";
    REQUIRE(f.api.UpdateStatus(GlobalServiceResource(), "istio-system", edited).ok());
  });
  f.writer->Set("httpbin/in-ambient", Status(4));
  REQUIRE(Eventually([&] { return !f.Keys().empty(); }));
  CHECK(f.Keys() == std::vector<std::string>{"httpbin/in-ambient"});
  // Which write came last is not known: the stored copy is not trusted, so
  // the reconcile that follows writes the status again.
  const int writes = f.api.Writes();
  f.writer->Set("httpbin/in-ambient", Status(4));
  REQUIRE(Eventually([&] { return f.api.Writes() == writes + 1; }));
}

TEST_CASE("An echo of an earlier write that comes after a later one changes nothing",
          "[service-status]") {
  Fixture f;
  f.Watch();
  f.writer->Start();
  f.api.HoldEvents(true);  // a slow watch: the answers come first
  f.writer->Set("httpbin/in-ambient", Status(3));
  REQUIRE(Eventually([&] { return HasStatus(f.api, "httpbin.in-ambient"); }));
  f.writer->Set("httpbin/in-ambient", Status(4));
  REQUIRE(Eventually(
      [&] { return (*Object(f.api, "httpbin.in-ambient"))["status"]["endpoints"] == 4; }));
  REQUIRE(Eventually([&] { return f.Pending() == 0; }));
  const int writes = f.api.Writes();
  // Now the create, the first status and the second status come back, in order.
  f.api.HoldEvents(false);
  CHECK(f.Keys().empty());
  // The stored copy still says 4: the same status stops at Set().
  f.writer->Set("httpbin/in-ambient", Status(4));
  CHECK(f.Pending() == 0);
  std::this_thread::sleep_for(50ms);
  CHECK(f.api.Writes() == writes);
}

}  // namespace
}  // namespace globalsvc::controller
