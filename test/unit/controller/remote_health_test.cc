// The remote clusters' health acted on, with the time passed in: stale, then
// withheld past the timeout and back, carried-over endpoints replaced once a
// cluster syncs, and the Events on the Secrets (kept in memory).

#include "controller/remote_health.h"

#include <catch2/catch.hpp>

#include "test/unit/controller/memory_event_sink.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::controller {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

const TimePoint kStart = TimePoint{} + 1000s;

using MemoryEvents = testing::MemoryEventSink;

// cluster2 exports httpbin/in-ambient with one ready endpoint.
void FillCluster2(MeshStore& store) {
  const mesh::testing::GuideWorld world;
  store.Update("cluster2", [&](mesh::ClusterState& state) {
    state = world.cluster2;
    state.UpsertService(mesh::testing::GlobalService("httpbin", "in-ambient"));
    state.UpsertEndpointSlice(mesh::testing::Slice(
        "httpbin", "in-ambient", "s", {mesh::testing::ReadyEndpoint("10.2.0.1", "node-1")}));
  });
}

RemoteClusterStatus Remote(bool reachable, std::string last_error = "") {
  RemoteClusterStatus remote;
  remote.cluster = "cluster2";
  remote.secret = "remote-cluster2";
  remote.connected = true;
  remote.health.synced = true;
  remote.health.healthy = reachable;
  remote.health.last_error = std::move(last_error);
  return remote;
}

RemoteHealthOptions Options(std::chrono::milliseconds stale_timeout) {
  RemoteHealthOptions options;
  options.stale_timeout = stale_timeout;
  options.secret_namespace = "istio-system";
  return options;
}

TEST_CASE("An unreachable remote keeps its endpoints until the stale timeout, then they return",
          "[remote-health]") {
  MeshStore store;
  FillCluster2(store);
  MemoryEvents events;
  RemoteHealthTracker tracker(store, &events, Options(30s));

  CHECK(tracker.Observe({Remote(true)}, kStart).empty());
  CHECK(events.events.empty());

  // Unreachable: stale, endpoints kept, nothing to reconcile; the error is
  // reported on the Secret.
  CHECK(tracker.Observe({Remote(false, "connection refused")}, kStart + 1s).empty());
  CHECK_FALSE(store.IsWithheld("cluster2"));
  REQUIRE(events.Reasons() == std::vector<std::string>{"RemoteClusterUnreachable"});
  CHECK(events.events[0].object == "Secret/istio-system/remote-cluster2");
  CHECK(events.events[0].message.find("connection refused") != std::string::npos);

  CHECK(tracker.Observe({Remote(false, "connection refused")}, kStart + 30s).empty());
  CHECK_FALSE(store.IsWithheld("cluster2"));

  // 30 s after it was first seen unreachable: withheld, its service replanned.
  events.events.clear();
  CHECK(tracker.Observe({Remote(false, "connection refused")}, kStart + 31s) ==
        std::vector<std::string>{"httpbin/in-ambient"});
  CHECK(store.IsWithheld("cluster2"));
  REQUIRE(events.Reasons() == std::vector<std::string>{"RemoteClusterStaleRemoved"});
  CHECK(events.events[0].message.find("for 30 s") != std::string::npos);

  // Still withheld: no new transition, no Unreachable Event on top.
  events.events.clear();
  CHECK(tracker.Observe({Remote(false, "connection refused")}, kStart + 40s).empty());
  CHECK(events.events.empty());

  // Readable again: the endpoints return at once.
  CHECK(tracker.Observe({Remote(true)}, kStart + 41s) ==
        std::vector<std::string>{"httpbin/in-ambient"});
  CHECK_FALSE(store.IsWithheld("cluster2"));
  CHECK(events.events.empty());

  // A later outage counts from its own start.
  CHECK(tracker.Observe({Remote(false, "timeout")}, kStart + 50s).empty());
  CHECK(tracker.Observe({Remote(false, "timeout")}, kStart + 79s).empty());
  CHECK_FALSE(store.IsWithheld("cluster2"));
  CHECK(tracker.Observe({Remote(false, "timeout")}, kStart + 80s).size() == 1);
  CHECK(store.IsWithheld("cluster2"));
}

TEST_CASE("Without a stale timeout an unreachable remote is never withheld", "[remote-health]") {
  MeshStore store;
  FillCluster2(store);
  RemoteHealthTracker tracker(store, nullptr, Options(0s));
  CHECK(tracker.Observe({Remote(false, "x")}, kStart).empty());
  CHECK(tracker.Observe({Remote(false, "x")}, kStart + std::chrono::hours(24 * 30)).empty());
  CHECK_FALSE(store.IsWithheld("cluster2"));
}

TEST_CASE("A remote that is removed and comes back starts a new outage", "[remote-health]") {
  MeshStore store;
  FillCluster2(store);
  RemoteHealthTracker tracker(store, nullptr, Options(30s));
  CHECK(tracker.Observe({Remote(false, "x")}, kStart).empty());
  // Its Secret is deleted: forgotten, outage and all.
  CHECK(tracker.Observe({}, kStart + 10s).empty());
  CHECK(tracker.Observe({Remote(false, "x")}, kStart + 35s).empty());
  CHECK_FALSE(store.IsWithheld("cluster2"));
  CHECK(tracker.Observe({Remote(false, "x")}, kStart + 65s).size() == 1);
}

TEST_CASE("A remote that syncs replaces the endpoints carried over for it", "[remote-health]") {
  MeshStore store;
  mesh::CarriedService carried;
  carried.endpoints.push_back({});
  carried.endpoints.back().address = "10.9.9.9";
  carried.endpoints.back().cluster = "cluster2";
  store.SetCarried("cluster2", {{"other/only-remote", carried}});
  RemoteHealthTracker tracker(store, nullptr, Options(30s));

  // Connected, not yet synced: the carried endpoints stay.
  RemoteClusterStatus unsynced = Remote(true);
  unsynced.health.synced = false;
  CHECK(tracker.Observe({unsynced}, kStart).empty());
  CHECK(store.HasCarried("cluster2"));

  FillCluster2(store);
  const auto keys = tracker.Observe({Remote(true)}, kStart + 1s);
  CHECK_FALSE(store.HasCarried("cluster2"));
  // Both the carried key (now gone) and the cluster's own are replanned.
  CHECK(std::set<std::string>(keys.begin(), keys.end()) ==
        std::set<std::string>{"httpbin/in-ambient", "other/only-remote"});
  CHECK(tracker.Observe({Remote(true)}, kStart + 2s).empty());
}

TEST_CASE("A remote Secret whose kubeconfig cannot be used is reported, not a disconnected one",
          "[remote-health]") {
  MeshStore store;
  MemoryEvents events;
  RemoteHealthTracker tracker(store, &events, Options(0s));

  RemoteClusterStatus disconnected = Remote(false, "old error of a closed connection");
  disconnected.connected = false;
  CHECK(tracker.Observe({disconnected}, kStart).empty());
  CHECK(events.events.empty());

  disconnected.config_error = "kubeconfig: no current context";
  CHECK(tracker.Observe({disconnected}, kStart + 1s).empty());
  REQUIRE(events.events.size() == 1);
  CHECK(events.events[0].reason == "RemoteClusterUnreachable");
  CHECK(events.events[0].message.find("no current context") != std::string::npos);
}

}  // namespace
}  // namespace globalsvc::controller
