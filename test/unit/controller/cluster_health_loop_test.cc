// The health controller driven round by round with a manual clock, over the
// object calls and Events kept in memory: status written by the leader only
// and only after its first pass, staleness decided by the clock (services
// replanned when endpoints are withheld and when they return), the gauges,
// Secret problems reported every round, and the old API group cleaned up once.

#include "controller/cluster_health_loop.h"

#include <catch2/catch.hpp>

#include "controller/api_group.h"
#include "lib/mesh/model.h"
#include "lib/observability/metrics.h"
#include "test/support/memory_object_api.h"
#include "test/unit/controller/guide_store.h"
#include "test/unit/controller/memory_event_sink.h"

namespace globalsvc::controller {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The remote clusters as a table the test edits between rounds.
class MemoryRemoteClusters final : public RemoteClusterView {
 public:
  [[nodiscard]] std::vector<RemoteClusterStatus> Status() const override { return remotes; }
  [[nodiscard]] std::vector<SecretProblem> Problems() const override { return problems; }

  std::vector<RemoteClusterStatus> remotes;
  std::vector<SecretProblem> problems;
};

RemoteClusterStatus Cluster2(bool reachable) {
  RemoteClusterStatus remote;
  remote.cluster = "cluster2";
  remote.secret = "remote-cluster2";
  remote.connected = true;
  remote.connection_generation = 1;
  remote.health.synced = true;
  remote.health.healthy = reachable;
  remote.health.last_error = reachable ? "" : "connection refused";
  return remote;
}

kube::ResourceType LegacyRemoteClusters() {
  return {kLegacyApiGroup, kApiGroupVersion, "remoteclusters", true};
}

struct Fixture {
  Fixture() {
    testing::FillGuide(store, 1);  // cluster1 and cluster2 export httpbin/in-ambient
    remotes.remotes = {Cluster2(true)};
    ClusterHealthLoopOptions options;
    options.cluster_name = "cluster1";
    options.control_plane_namespace = "istio-system";
    options.host_suffix = "mesh.internal";
    options.secret_namespace = "istio-system";
    options.clock = &clock;
    ClusterHealthParts parts;
    parts.metrics = &metrics;
    parts.store = &store;
    parts.queue = &queue;
    parts.first_pass = &first_pass;
    parts.remotes = &remotes;
    parts.health = &health;
    parts.events = &events;
    parts.status = &status;
    parts.legacy_cleanup = &legacy_cleanup;
    parts.may_write = [this] { return leading; };
    parts.enqueue = [this](std::vector<std::string> keys) {
      enqueued.insert(enqueued.end(), keys.begin(), keys.end());
    };
    loop = std::make_unique<ClusterHealthLoop>(std::move(options), std::move(parts));
  }

  [[nodiscard]] std::optional<json> Status(const std::string& cluster) const {
    const auto object = api.Find(RemoteClusterResource(), "istio-system", cluster);
    if (!object) return std::nullopt;
    return (*object)["status"];
  }
  [[nodiscard]] double Gauge(const obs::Gauge& gauge) const { return gauge.Value({"cluster2"}); }

  testsupport::MemoryObjectApi api;
  obs::Registry registry;
  ControllerMetrics metrics{registry};
  kube::ManualClock clock;
  kube::WorkQueue queue{clock};
  MeshStore store;
  FirstPass first_pass;
  MemoryRemoteClusters remotes;
  testing::MemoryEventSink events;
  RemoteHealthTracker health{store, &events, {30s, "istio-system"}};
  StatusWriter status{api, "istio-system", metrics, clock};
  LegacyStatusCleanup legacy_cleanup{api, "istio-system", metrics};
  bool leading = true;
  std::vector<std::string> enqueued;
  std::unique_ptr<ClusterHealthLoop> loop;
};

TEST_CASE("Health: nothing is written while the lease is not held; the new leader writes it",
          "[health-loop]") {
  Fixture f;
  f.first_pass.Begin({});
  (void)f.api.Seed(LegacyRemoteClusters(),
                   {{"apiVersion", std::string(kLegacyApiGroup) + "/" + kApiGroupVersion},
                    {"kind", "RemoteCluster"},
                    {"metadata",
                     {{"name", "cluster2"},
                      {"namespace", "istio-system"},
                      {"labels", {{mesh::kManagedByLabel, mesh::kManagedByValue}}}}}});
  f.leading = false;

  f.loop->Round();
  CHECK(f.api.Writes() == 0);
  CHECK_FALSE(f.Status("cluster2"));
  CHECK_FALSE(f.legacy_cleanup.done());
  CHECK(f.api.Find(LegacyRemoteClusters(), "istio-system", "cluster2"));
  // The gauges are every replica's, leader or not.
  CHECK(f.Gauge(f.metrics.cluster_connected) == 1);
  CHECK(f.Gauge(f.metrics.cluster_synced) == 1);

  f.leading = true;
  f.loop->Round();
  REQUIRE(f.Status("cluster2"));
  CHECK((*f.Status("cluster2"))["connected"] == true);
  CHECK((*f.Status("cluster2"))["role"] == "remote");
  CHECK(f.legacy_cleanup.done());
  CHECK_FALSE(f.api.Find(LegacyRemoteClusters(), "istio-system", "cluster2"));

  // Losing the lease again stops the writes, though the cluster changes.
  f.leading = false;
  const int writes = f.api.Writes();
  f.remotes.remotes = {Cluster2(false)};
  f.loop->Round();
  CHECK(f.api.Writes() == writes);
  CHECK((*f.Status("cluster2"))["connected"] == true);
  CHECK(f.Gauge(f.metrics.cluster_connected) == 0);
}

TEST_CASE("Health: status waits for the leader's first pass to count every service",
          "[health-loop]") {
  Fixture f;
  f.first_pass.Begin({"in-ambient/httpbin"});
  f.loop->Round();
  CHECK_FALSE(f.Status("cluster2"));

  CHECK(f.first_pass.Reconciled("in-ambient/httpbin"));
  f.loop->Round();
  CHECK(f.Status("cluster2"));
}

TEST_CASE("Health: an unreachable remote is stale, withheld past the timeout, and comes back",
          "[health-loop]") {
  Fixture f;
  f.first_pass.Begin({});
  f.loop->Round();
  CHECK(f.enqueued.empty());
  CHECK(f.Gauge(f.metrics.cluster_stale) == 0);

  f.remotes.remotes = {Cluster2(false)};
  f.loop->Round();
  CHECK(f.enqueued.empty());  // its endpoints are kept: nothing to replan
  CHECK(f.Gauge(f.metrics.cluster_stale) == 1);
  CHECK(f.Gauge(f.metrics.cluster_stale_removed) == 0);
  CHECK((*f.Status("cluster2"))["stale"] == true);
  CHECK((*f.Status("cluster2"))["lastError"] == "connection refused");

  f.clock.Advance(29s);
  f.loop->Round();
  CHECK(f.enqueued.empty());
  CHECK_FALSE(f.store.IsWithheld("cluster2"));

  f.clock.Advance(1s);  // unreachable for --remote-stale-timeout (30 s)
  f.loop->Round();
  CHECK(f.enqueued == std::vector<std::string>{"httpbin/in-ambient"});
  CHECK(f.store.IsWithheld("cluster2"));
  CHECK(f.Gauge(f.metrics.cluster_stale) == 0);
  CHECK(f.Gauge(f.metrics.cluster_stale_removed) == 1);
  CHECK((*f.Status("cluster2"))["endpointsRemoved"] == true);
  CHECK((*f.Status("cluster2"))["stale"] == false);

  f.enqueued.clear();
  f.remotes.remotes = {Cluster2(true)};
  f.loop->Round();
  CHECK(f.enqueued == std::vector<std::string>{"httpbin/in-ambient"});
  CHECK_FALSE(f.store.IsWithheld("cluster2"));
  CHECK(f.Gauge(f.metrics.cluster_stale_removed) == 0);
  CHECK((*f.Status("cluster2"))["endpointsRemoved"] == false);
  CHECK((*f.Status("cluster2"))["connected"] == true);
}

TEST_CASE("Health: a Secret's problem is reported every round while it lasts", "[health-loop]") {
  Fixture f;
  f.remotes.problems = {{"remote-broken", "malformed", "key cluster3: kubeconfig does not parse"}};
  f.loop->Round();
  f.loop->Round();
  REQUIRE(f.events.events.size() == 2);
  CHECK(f.events.events[0].object == "Secret/istio-system/remote-broken");
  CHECK(f.events.events[0].reason == "RemoteClusterSecret");
  CHECK(f.events.events[0].type == "Warning");

  f.remotes.problems.clear();
  f.loop->Round();
  CHECK(f.events.events.size() == 2);
}

TEST_CASE("Health: watch restarts are counted as deltas of a connection's error count",
          "[health-loop]") {
  Fixture f;
  auto remote = Cluster2(true);
  remote.health.errors = 2;
  f.remotes.remotes = {remote};
  f.loop->Round();
  const double first = f.metrics.watch_restarts.Value({"cluster2"});

  remote.health.errors = 5;
  f.remotes.remotes = {remote};
  f.loop->Round();
  CHECK(f.metrics.watch_restarts.Value({"cluster2"}) == first + 3);

  // A new connection counts from zero again: its 1 error is new.
  remote.health.errors = 1;
  remote.connection_generation = 2;
  f.remotes.remotes = {remote};
  f.loop->Round();
  CHECK(f.metrics.watch_restarts.Value({"cluster2"}) == first + 4);
}

}  // namespace
}  // namespace globalsvc::controller
