// Events against the object calls kept in memory, with the time passed in:
// one Event per problem per repeat period, none from a standby, and a failed
// create never fails the caller.

#include "controller/event_recorder.h"

#include <catch2/catch.hpp>

#include "test/support/memory_object_api.h"

namespace globalsvc::controller {
namespace {

using namespace std::chrono_literals;

std::vector<nlohmann::json> Events(testsupport::MemoryObjectApi& api) {
  auto listed = api.List(kube::resources::Events(), "");
  REQUIRE(listed.ok());
  return listed->items;
}

const EventTarget kSecret{"v1", "Secret", "istio-system", "remote-cluster2"};

TEST_CASE("The same problem is recorded once per repeat period", "[events]") {
  testsupport::MemoryObjectApi api;
  kube::ManualClock clock;
  EventRecorder recorder(api, "replica-a", nullptr, clock, 600s);

  recorder.Warning(kSecret, "RemoteClusterUnreachable", "cluster2: refused");
  recorder.Warning(kSecret, "RemoteClusterUnreachable", "cluster2: refused");
  auto events = Events(api);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "Warning");
  CHECK(events[0]["reason"] == "RemoteClusterUnreachable");
  CHECK(events[0]["reportingInstance"] == "replica-a");
  CHECK(events[0]["regarding"]["name"] == "remote-cluster2");
  CHECK(events[0]["metadata"]["namespace"] == "istio-system");

  // Another message is another problem; the first repeats only once the
  // period has passed.
  recorder.Warning(kSecret, "RemoteClusterUnreachable", "cluster2: timeout");
  CHECK(Events(api).size() == 2);
  clock.Advance(599s);
  recorder.Warning(kSecret, "RemoteClusterUnreachable", "cluster2: refused");
  CHECK(Events(api).size() == 2);
  clock.Advance(1s);
  recorder.Warning(kSecret, "RemoteClusterUnreachable", "cluster2: refused");
  CHECK(Events(api).size() == 3);
}

TEST_CASE("A replica that may not write records nothing", "[events]") {
  testsupport::MemoryObjectApi api;
  kube::ManualClock clock;
  bool leading = false;
  EventRecorder recorder(
      api, "replica-b", [&] { return leading; }, clock);
  recorder.Normal(kSecret, "Connected", "cluster2");
  CHECK(api.Calls("create") == 0);
  // Not remembered as recorded either: the new leader records it at once.
  leading = true;
  recorder.Normal(kSecret, "Connected", "cluster2");
  CHECK(Events(api).size() == 1);
}

TEST_CASE("A failed Event is logged, not the caller's problem, and tried again", "[events]") {
  testsupport::MemoryObjectApi api;
  kube::ManualClock clock;
  EventRecorder recorder(api, "replica-a", nullptr, clock, 60s);
  api.FailNext("create", MakeError(ErrorCode::kForbidden, "events is forbidden"));
  recorder.Warning(kSecret, "RemoteClusterSecret", "bad kubeconfig");
  CHECK(Events(api).empty());
  clock.Advance(60s);
  recorder.Warning(kSecret, "RemoteClusterSecret", "bad kubeconfig");
  CHECK(Events(api).size() == 1);
}

TEST_CASE("Long and non-UTF-8 texts are cut to valid UTF-8", "[events]") {
  testsupport::MemoryObjectApi api;
  kube::ManualClock clock;
  EventRecorder recorder(api, "replica-a", nullptr, clock);
  std::string message(5000, 'x');
  message += "\xff\xfe";
  recorder.Warning(kSecret, "RemoteClusterUnreachable", message);
  auto events = Events(api);
  REQUIRE(events.size() == 1);
  const std::string note = events[0]["note"];
  CHECK(note.size() < message.size());
  CHECK_NOTHROW(events[0].dump());
}

}  // namespace
}  // namespace globalsvc::controller
