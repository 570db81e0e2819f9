// Remote cluster lifecycle on the real test bed, with the controller for
// cluster1 as a child process of the globalsvc binary: a third cluster joins
// and leaves through its Secret; a remote kube-apiserver stopped for 30 s
// removes nothing and is read again within seconds; --remote-stale-timeout
// removes an unreachable cluster's endpoints and brings them back; a
// controller restarted while a remote API server is down keeps that
// cluster's endpoints from the ServiceEntries it finds; after an upgrade the
// status objects of the old API group that globalsvc made are deleted.
//
// Needs three clusters: uses the test bed of GLOBALSVC_TESTBED_DIR when it
// has three, else starts its own (stopped at exit).

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>

#include "test/integration/controller/controller_test_support.h"
#include "test/integration/controller/fault_support.h"
#include "test/support/testbed.h"

namespace globalsvc::controller {
namespace {

namespace fs = std::filesystem;
using testbed::ControllerProcess;
using testbed::EndpointLines;
using testbed::EntryPoller;
using testbed::Figure;
using testbed::FullView;
using testbed::GetServiceEntry;
using testbed::Joined;
using testbed::JoinLines;
using testbed::LocalView;
using testbed::Seconds;
using testbed::StatusOf;
using testbed::WaitForEndpoints;
using testbed::WaitForMetric;
using testsupport::Component;
using testsupport::TestBed;
using testsupport::WaitFor;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

const std::string kCluster3Line = "cluster3 cluster3-network region-3/region-3a 2 gateway";

struct World {
  TestBed* bed = nullptr;
  std::unique_ptr<TestBed> owned;  // a test bed started for this run
  fs::path logs;
  int controllers = 0;

  ~World() {
    if (!logs.empty() && std::getenv("GLOBALSVC_KEEP_LOGS") == nullptr) {
      std::error_code ignored;
      fs::remove_all(logs, ignored);
    }
  }
};

Status BuildWorld(World& world) {
  auto shared = TestBed::Shared(3);
  if (shared.ok()) {
    world.bed = *shared;
  } else {
    // The shared test bed has two clusters: start a three-cluster one.
    std::printf("starting a three-cluster test bed (%s)\n", shared.error().message.c_str());
    auto started = TestBed::Start(3);
    if (!started.ok()) return started.error();
    world.owned = std::move(*started);
    world.bed = world.owned.get();
  }
  std::string pattern = (fs::temp_directory_path() / "globalsvc-lifecycle-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return MakeError(ErrorCode::kInternal, "mkdtemp");
  world.logs = pattern;
  // The RemoteCluster status resources.
  auto crds =
      world.bed->Kubectl("cluster1", {"apply", "-f", (testsupport::SourceDir() / "crds").string()});
  if (!crds.ok()) return MakeError(ErrorCode::kInternal, "apply crds: " + crds.err);
  return Ok{};
}

World& GetWorld() {
  static World world;
  static const Status built = BuildWorld(world);
  INFO(testbed::Message(built));
  REQUIRE(built.ok());
  return world;
}

Result<std::unique_ptr<ControllerProcess>> StartController(
    World& world, const std::string& identity, const std::vector<std::string>& extra_args = {}) {
  testbed::ControllerProcessOptions options;
  options.log_path = world.logs / (std::to_string(++world.controllers) + "-" + identity + ".log");
  options.kubeconfig = world.bed->Kubeconfig("cluster1");
  options.identity = identity;
  options.lease = "globalsvc-" + identity;
  options.extra_args = extra_args;
  std::printf("controller %s log: %s\n", identity.c_str(), options.log_path.c_str());
  // A lease left by an earlier run would delay leading.
  world.bed->Kubectl(
      "cluster1", {"delete", "lease", "-n", "istio-system", options.lease, "--ignore-not-found"});
  return ControllerProcess::Start(options);
}

Status ConnectRemote(const TestBed& bed, const std::string& remote) {
  return bed.Apply("cluster1", testbed::RemoteSecretYaml(bed, remote));
}

Status DisconnectRemote(const TestBed& bed, const std::string& remote) {
  auto deleted = bed.Kubectl("cluster1", {"delete", "secret", "-n", "istio-system",
                                          "globalsvc-remote-" + remote, "--ignore-not-found"});
  return deleted.ok() ? Status(Ok{}) : MakeError(ErrorCode::kInternal, deleted.err);
}

// The guide's app in every cluster, no remote Secret in cluster1, every API
// server running.
void StartClean(const TestBed& bed) {
  for (const auto& cluster : bed.clusters()) {
    // A case that failed half-way may have left one stopped.
    (void)bed.StartComponent(cluster, Component::kApiServer);
  }
  testbed::StartClean(bed);
}

// cluster1's RemoteCluster status for `cluster`.
std::optional<nlohmann::json> RemoteClusterStatus(const TestBed& bed, const std::string& cluster) {
  auto object =
      bed.GetJson("cluster1", {"remoteclusters.globalsvc.io", "-n", "istio-system", cluster});
  if (!object.ok()) return std::nullopt;
  return (*object).value("status", nlohmann::json::object());
}

Status WaitForStatus(const TestBed& bed, const std::string& cluster, const std::string& field,
                     bool value) {
  return WaitFor("RemoteCluster " + cluster + " " + field + "=" + (value ? "true" : "false"), 60s,
                 [&](std::string* why) {
                   auto status = RemoteClusterStatus(bed, cluster);
                   *why = status ? status->dump() : "no RemoteCluster";
                   return status && status->value(field, !value) == value;
                 });
}

// A poller problem: any moment cluster1's ServiceEntry is not `expected`.
std::function<std::string(const nlohmann::json*)> Exactly(std::vector<std::string> expected) {
  return [expected = std::move(expected)](const nlohmann::json* entry) -> std::string {
    if (!entry) return "no ServiceEntry";
    auto lines = EndpointLines(*entry);
    return lines == expected ? "" : "endpoints " + JoinLines(lines);
  };
}

void CheckNoMisses(EntryPoller& poller) {
  CHECK_OK(poller.StopAfter(5));
  INFO("misses:\n" << Joined(poller.misses()));
  CHECK(poller.misses().empty());
}

// ---------------------------------------------------------------------------

TEST_CASE("A third cluster joins through its Secret and leaves when it is deleted",
          "[controller][lifecycle][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(bed);
  auto started = StartController(world, "lifecycle-join");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(ConnectRemote(bed, "cluster2"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));

  // Joins: its gateway endpoint appears; cluster1's and cluster2's stay.
  EntryPoller untouched(bed, [](const nlohmann::json* entry) -> std::string {
    if (!entry) return "no ServiceEntry";
    auto lines = EndpointLines(*entry);
    std::erase(lines, kCluster3Line);
    return lines == FullView(2) ? "" : "endpoints " + JoinLines(lines);
  });
  const auto joined = SteadyClock::now();
  REQUIRE_OK(ConnectRemote(bed, "cluster3"));
  auto with_cluster3 = FullView(2);
  with_cluster3.push_back(kCluster3Line);
  std::sort(with_cluster3.begin(), with_cluster3.end());
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", with_cluster3));
  Figure("third cluster's endpoints in the ServiceEntry after its Secret is created",
         Seconds(SteadyClock::now() - joined));
  CHECK_OK(WaitForMetric(controller, "cluster3 connected", [](const ControllerProcess& c) {
    return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster3"}}) == 1.0 &&
           c.Metric("globalsvc_endpoints", {{"cluster", "cluster3"}}) == 2.0;
  }));
  CHECK_OK(WaitForStatus(bed, "cluster3", "synced", true));

  // Leaves: only its endpoint goes.
  const auto left = SteadyClock::now();
  REQUIRE_OK(DisconnectRemote(bed, "cluster3"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  Figure("third cluster's endpoints gone after its Secret is deleted",
         Seconds(SteadyClock::now() - left));
  CheckNoMisses(untouched);
  CHECK_OK(WaitForMetric(controller, "cluster3 forgotten", [](const ControllerProcess& c) {
    return !c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster3"}}).has_value();
  }));
  CHECK_OK(WaitFor("RemoteCluster cluster3 deleted", 60s, [&](std::string*) {
    return !RemoteClusterStatus(bed, "cluster3").has_value();
  }));

  // Someone else's RemoteCluster of that name, made after the controller
  // listed the namespace: the cluster joins and leaves again, and the object
  // is neither taken over nor deleted.
  const std::string foreign = R"(
apiVersion: globalsvc.io/v1alpha1
kind: RemoteCluster
metadata:
  name: cluster3
  namespace: istio-system
spec: {}
)";
  REQUIRE_OK(bed.Apply("cluster1", foreign));
  auto foreign_before =
      bed.GetJson("cluster1", {"remoteclusters.globalsvc.io", "-n", "istio-system", "cluster3"});
  REQUIRE_OK(StatusOf(foreign_before));
  REQUIRE_OK(ConnectRemote(bed, "cluster3"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", with_cluster3));
  CHECK_OK(WaitFor("the foreign RemoteCluster reported", 60s, [&](std::string* why) {
    *why = "no warning; log tail: " + controller.Tail();
    return controller.CountInLog(
               "is not managed by globalsvc; its status is not written kind=RemoteCluster "
               "name=istio-system/cluster3") == 1;
  }));
  REQUIRE_OK(DisconnectRemote(bed, "cluster3"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  CHECK_OK(WaitForMetric(controller, "cluster3 forgotten again", [](const ControllerProcess& c) {
    return !c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster3"}}).has_value();
  }));
  // Two gauge-loop rounds after the cluster left: a delete would be done.
  std::this_thread::sleep_for(5s);
  auto foreign_after =
      bed.GetJson("cluster1", {"remoteclusters.globalsvc.io", "-n", "istio-system", "cluster3"});
  REQUIRE_OK(StatusOf(foreign_after));
  CHECK((*foreign_after)["metadata"]["resourceVersion"] ==
        (*foreign_before)["metadata"]["resourceVersion"]);
  CHECK_FALSE((*foreign_after)["metadata"]
                  .value("labels", nlohmann::json::object())
                  .contains("app.kubernetes.io/managed-by"));
  CHECK_FALSE(foreign_after->contains("status"));
  REQUIRE_OK(bed.Delete("cluster1", foreign));

  REQUIRE_OK(DisconnectRemote(bed, "cluster2"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", LocalView()));
  CHECK(controller.Terminate());
  // Nothing failed here: clusters that leave and a graceful stop end their
  // watches without reporting them as failed.
  INFO(controller.Tail());
  CHECK(controller.CountInLog("watch failed") == 0);
}

TEST_CASE("A remote kube-apiserver stopped for 30 s removes nothing and is read again at once",
          "[controller][lifecycle][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(bed);
  auto started = StartController(world, "lifecycle-outage");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(ConnectRemote(bed, "cluster2"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  CHECK_OK(WaitForStatus(bed, "cluster2", "synced", true));

  EntryPoller poller(bed, Exactly(FullView(2)));
  REQUIRE_OK(bed.StopComponent("cluster2", Component::kApiServer));
  const auto stopped = SteadyClock::now();
  CHECK_OK(WaitForMetric(controller, "cluster2 stale", [](const ControllerProcess& c) {
    return c.Metric("globalsvc_cluster_stale", {{"cluster", "cluster2"}}) == 1.0 &&
           c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 0.0;
  }));
  CHECK_OK(WaitForStatus(bed, "cluster2", "stale", true));
  {
    auto status = RemoteClusterStatus(bed, "cluster2");
    REQUIRE(status);
    CHECK(status->value("connected", true) == false);
    CHECK(status->value("endpointsRemoved", true) == false);
    CHECK_FALSE(status->value("lastError", "").empty());
  }
  // The outage lasts 30 s; the ServiceEntry is polled all along.
  REQUIRE_OK(WaitFor(
      "30 s of outage", 60s, [&](std::string*) { return SteadyClock::now() - stopped >= 30s; },
      500ms));
  CHECK_OK(poller.StopAfter(10));
  {
    INFO("misses during the outage:\n" << Joined(poller.misses()));
    CHECK(poller.misses().empty());
  }

  const auto restarting = SteadyClock::now();
  REQUIRE_OK(bed.StartComponent("cluster2", Component::kApiServer));
  const auto healthy = SteadyClock::now();
  // A change made right after recovery: the gateway moves to the other zone.
  auto relabelled =
      bed.Kubectl("cluster2", {"label", "--overwrite", "deployment", "istio-eastwestgateway", "-n",
                               "istio-system", "topology.kubernetes.io/zone=us-west-2b"});
  REQUIRE(relabelled.ok());
  auto moved = LocalView();
  moved.push_back("cluster2 cluster2-network us-west-2/us-west-2b 2 gateway");
  CHECK_OK(WaitForEndpoints(bed, "cluster1", moved));
  const double converged = Seconds(SteadyClock::now() - healthy);
  const double since_start = Seconds(SteadyClock::now() - restarting);
  CHECK_OK(WaitForMetric(controller, "cluster2 connected again", [](const ControllerProcess& c) {
    return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 1.0 &&
           c.Metric("globalsvc_cluster_stale", {{"cluster", "cluster2"}}) == 0.0;
  }));
  CHECK_OK(WaitForStatus(bed, "cluster2", "stale", false));
  Figure(
      "change made right after a 30 s remote outage, in cluster1's ServiceEntry after the "
      "remote apiserver is healthy",
      converged);
  Figure("the same, from the remote apiserver's start command (its start-up included)",
         since_start);
  // The target is 5 s (watch backoff capped at 4 s); a loaded machine may
  // need more, so the hard limit is looser and the miss is reported.
  if (converged > 5.0) WARN("convergence after recovery took " << converged << " s (target 5 s)");
  CHECK(converged <= 15.0);

  auto restored =
      bed.Kubectl("cluster2", {"label", "--overwrite", "deployment", "istio-eastwestgateway", "-n",
                               "istio-system", "topology.kubernetes.io/zone=us-west-2a"});
  REQUIRE(restored.ok());
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  REQUIRE_OK(DisconnectRemote(bed, "cluster2"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", LocalView()));
  CHECK(controller.Terminate());
}

TEST_CASE("With --remote-stale-timeout an unreachable cluster's endpoints go, and come back",
          "[controller][lifecycle][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(bed);
  auto started =
      StartController(world, "lifecycle-stale-timeout", {"--remote-stale-timeout", "10s"});
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(ConnectRemote(bed, "cluster2"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));

  // Timed from the stop command: the API server may close its watches while
  // it shuts down, before the command returns.
  const auto stopped = SteadyClock::now();
  REQUIRE_OK(bed.StopComponent("cluster2", Component::kApiServer));
  // Kept for the first 10 s...
  std::optional<SteadyClock::time_point> stale_seen;
  CHECK_OK(WaitForMetric(controller, "cluster2 stale", [&](const ControllerProcess& c) {
    if (c.Metric("globalsvc_cluster_stale", {{"cluster", "cluster2"}}) != 1.0) return false;
    stale_seen = SteadyClock::now();
    return true;
  }));
  // ...then removed.
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", LocalView(), testbed::kGuideEntry, 60s));
  const auto removed = SteadyClock::now();
  const double removed_after = Seconds(removed - stopped);
  CHECK(removed_after >= 10.0);
  // Timed from the moment the cluster was seen stale: the stop command itself
  // may take seconds on a loaded machine.
  REQUIRE(stale_seen);
  const double removed_after_stale = Seconds(removed - *stale_seen);
  CHECK(removed_after_stale >= 8.0);
  CHECK(removed_after_stale <= 10.0 + 15.0);
  CHECK_OK(WaitForMetric(controller, "cluster2 endpoints removed", [](const ControllerProcess& c) {
    return c.Metric("globalsvc_cluster_stale_removed", {{"cluster", "cluster2"}}) == 1.0 &&
           c.Metric("globalsvc_cluster_stale", {{"cluster", "cluster2"}}) == 0.0;
  }));
  CHECK_OK(WaitForStatus(bed, "cluster2", "endpointsRemoved", true));
  CHECK_OK(WaitFor("Warning Event RemoteClusterStaleRemoved", 30s, [&](std::string*) {
    return testbed::HasWarningEvent(bed, "cluster1", "istio-system", "Secret",
                                    "globalsvc-remote-cluster2", "RemoteClusterStaleRemoved");
  }));
  CHECK(controller.CountInLog("remote cluster stale for too long: endpoints removed "
                              "cluster=cluster2") == 1);

  REQUIRE_OK(bed.StartComponent("cluster2", Component::kApiServer));
  const auto healthy = SteadyClock::now();
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  const double back_after = Seconds(SteadyClock::now() - healthy);
  CHECK_OK(WaitForMetric(controller, "cluster2 live again", [](const ControllerProcess& c) {
    return c.Metric("globalsvc_cluster_stale_removed", {{"cluster", "cluster2"}}) == 0.0 &&
           c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 1.0;
  }));
  CHECK_OK(WaitForStatus(bed, "cluster2", "endpointsRemoved", false));
  Figure("endpoints removed after the remote apiserver stop command (--remote-stale-timeout 10s)",
         removed_after);
  Figure("remote reported stale after its apiserver stop command", Seconds(*stale_seen - stopped));
  Figure("endpoints removed after the remote was reported stale", removed_after_stale);
  Figure("endpoints back after the remote apiserver is healthy", back_after);

  REQUIRE_OK(DisconnectRemote(bed, "cluster2"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", LocalView()));
  CHECK(controller.Terminate());
}

TEST_CASE("A controller restarted while a remote API server is down keeps that cluster's endpoints",
          "[controller][lifecycle][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(bed);
  REQUIRE_OK(ConnectRemote(bed, "cluster2"));
  {
    auto first = StartController(world, "lifecycle-restart-1");
    REQUIRE_OK(StatusOf(first));
    REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
    CHECK((*first)->Terminate());
  }

  EntryPoller poller(bed, Exactly(FullView(2)));
  REQUIRE_OK(bed.StopComponent("cluster2", Component::kApiServer));
  // Initial sync timeout 5 s: the first writes come soon after the start.
  auto second = StartController(world, "lifecycle-restart-2", {"--initial-sync-timeout", "5"});
  REQUIRE_OK(StatusOf(second));
  ControllerProcess& controller = **second;
  CHECK_OK(WaitFor("carry-over of cluster2's endpoints", 60s, [&](std::string* why) {
    *why = controller.Tail();
    return controller.CountInLog(
               "remote cluster not synced: the endpoints the existing "
               "ServiceEntries hold for it are kept until it syncs "
               "cluster=cluster2") >= 1;
  }));
  CHECK_OK(WaitForMetric(controller, "leading, cluster2 stale", [](const ControllerProcess& c) {
    return c.Metric("globalsvc_leader") == 1.0 &&
           c.Metric("globalsvc_cluster_stale", {{"cluster", "cluster2"}}) == 1.0 &&
           c.Metric("globalsvc_endpoints", {{"cluster", "cluster2"}}) == 2.0;
  }));
  CHECK_OK(WaitForStatus(bed, "cluster2", "stale", true));

  // A local change is written with cluster2's carried-over endpoint in it.
  REQUIRE(
      bed.Kubectl("cluster1", {"annotate", "--overwrite", "service", "in-ambient", "-n", "httpbin",
                               "networking.istio.io/traffic-distribution=PreferSameNode"})
          .ok());
  CHECK_OK(WaitFor("PreferSameNode in cluster1", 60s, [&](std::string* why) {
    auto entry = GetServiceEntry(bed, "cluster1", testbed::kGuideEntry);
    if (!entry) return false;
    const auto annotations = (*entry)["metadata"].value("annotations", nlohmann::json::object());
    *why = annotations.dump();
    return annotations.value("networking.istio.io/traffic-distribution", "") == "PreferSameNode";
  }));
  CHECK(controller.MetricOr0("globalsvc_writes_total", {{"kind", "apply"}}) >= 1);
  CheckNoMisses(poller);

  // cluster2 back: its own state replaces the carried endpoints.
  REQUIRE_OK(bed.StartComponent("cluster2", Component::kApiServer));
  CHECK_OK(WaitFor("carried endpoints replaced", 60s, [&](std::string* why) {
    *why = controller.Tail();
    return controller.CountInLog(
               "carried-over endpoints replaced by its own "
               "cluster=cluster2") >= 1;
  }));
  REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 3));
  // cluster2's own controllers (ReplicaSet, scheduler, kwok, EndpointSlice)
  // come back from the outage with their own backoff: wait for its own
  // EndpointSlices first, so a slow cluster2 is told apart from a controller
  // that missed the change.
  REQUIRE_OK(testbed::SettleGuideApp(bed, "cluster2", 3));
  CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(3)));
  CHECK_OK(WaitForMetric(controller, "cluster2 live", [](const ControllerProcess& c) {
    return c.Metric("globalsvc_cluster_stale", {{"cluster", "cluster2"}}) == 0.0;
  }));

  REQUIRE(bed.Kubectl("cluster1", {"annotate", "service", "in-ambient", "-n", "httpbin",
                                   "networking.istio.io/traffic-distribution-"})
              .ok());
  REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 2));
  REQUIRE_OK(DisconnectRemote(bed, "cluster2"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", LocalView()));
  CHECK(controller.Terminate());
}

// The project's CRDs as they were in the old API group (globalsvc.solo.io).
std::string LegacyCrds() {
  std::string out;
  for (const char* resource : {"remoteclusters", "globalservices"}) {
    std::string text = testbed::ReadFile(testsupport::SourceDir() / "crds" /
                                         (std::string("globalsvc.io_") + resource + ".yaml"));
    for (const auto& [from, to] : {std::pair<std::string, std::string>{
                                       "name: " + std::string(resource) + ".globalsvc.io",
                                       "name: " + std::string(resource) + ".globalsvc.solo.io"},
                                   {"group: globalsvc.io", "group: globalsvc.solo.io"}}) {
      const auto at = text.find(from);
      if (at != std::string::npos) text.replace(at, from.size(), to);
    }
    out += "---\n" + text;
  }
  return out;
}

TEST_CASE(
    "After an upgrade, the status objects of the old API group are deleted, foreign ones kept",
    "[controller][lifecycle][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(bed);
  const std::string crds = LegacyCrds();
  REQUIRE_OK(bed.Apply("cluster1", crds));
  CHECK_OK(WaitFor("the old group served", 60s, [&](std::string* why) {
    auto listed = bed.Kubectl("cluster1", {"get", "remoteclusters.globalsvc.solo.io", "-A"});
    *why = listed.err;
    return listed.ok();
  }));
  const std::string old_objects = R"(
apiVersion: globalsvc.solo.io/v1alpha1
kind: RemoteCluster
metadata:
  name: cluster2
  namespace: istio-system
  labels: {app.kubernetes.io/managed-by: globalsvc}
spec: {}
---
apiVersion: globalsvc.solo.io/v1alpha1
kind: GlobalService
metadata:
  name: httpbin.in-ambient
  namespace: istio-system
  labels: {app.kubernetes.io/managed-by: globalsvc}
spec: {}
---
apiVersion: globalsvc.solo.io/v1alpha1
kind: RemoteCluster
metadata:
  name: someone-elses
  namespace: istio-system
spec: {}
)";
  REQUIRE_OK(bed.Apply("cluster1", old_objects));
  auto names = [&](const std::string& resource) {
    std::vector<std::string> out;
    auto listed = bed.GetJson("cluster1", {resource, "-n", "istio-system"});
    if (!listed.ok()) return std::vector<std::string>{"(" + listed.error().message + ")"};
    for (const auto& item : (*listed)["items"])
      out.push_back(item["metadata"].value("name", ""));
    std::sort(out.begin(), out.end());
    return out;
  };

  auto started = StartController(world, "lifecycle-legacy-group");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(ConnectRemote(bed, "cluster2"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  CHECK_OK(
      WaitFor("ours in the old group deleted, the foreign one kept", 60s, [&](std::string* why) {
        const auto clusters = names("remoteclusters.globalsvc.solo.io");
        const auto services = names("globalservices.globalsvc.solo.io");
        *why = "remoteclusters: " + Joined(clusters) + "; globalservices: " + Joined(services);
        return clusters == std::vector<std::string>{"someone-elses"} && services.empty();
      }));
  CHECK_OK(WaitForMetric(controller, "two legacy deletes", [](const ControllerProcess& c) {
    return c.Metric("globalsvc_writes_total", {{"kind", "legacy-status-delete"}}) == 2.0;
  }));
  // The new group holds what the controller knows.
  CHECK_OK(WaitForStatus(bed, "cluster2", "synced", true));

  REQUIRE_OK(DisconnectRemote(bed, "cluster2"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", LocalView()));
  CHECK(controller.Terminate());
  auto removed = bed.Kubectl(
      "cluster1", {"delete", "--ignore-not-found", "crd", "remoteclusters.globalsvc.solo.io",
                   "globalservices.globalsvc.solo.io"});
  CHECK(removed.ok());
}

}  // namespace
}  // namespace globalsvc::controller
