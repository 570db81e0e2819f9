// The controller when the storage under an API server fails: etcd of the
// remote and of the local cluster restarted, and watches whose
// resourceVersion was compacted away (410 Gone) in the middle of a run. No
// endpoint may be removed and no ServiceEntry deleted or recreated (its uid
// stays); changes made meanwhile converge after recovery.

#include <catch2/catch.hpp>

#include "test/integration/controller/controller_test_support.h"
#include "test/integration/controller/fault_support.h"
#include "test/support/testbed.h"

namespace globalsvc::controller {
namespace {

using namespace testbed;
using testsupport::Component;
using testsupport::TestBed;
using testsupport::WaitFor;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::string Uid(const TestBed& bed, const std::string& name) {
  auto entry = GetServiceEntry(bed, "cluster1", name);
  return entry ? (*entry)["metadata"].value("uid", "") : std::string();
}

// Every poll: the guide's ServiceEntry exists, is the same object, and holds
// one of the `allowed` endpoint sets.
std::function<std::string(const nlohmann::json*)> SameEntry(
    std::string uid, std::vector<std::vector<std::string>> allowed) {
  return [uid = std::move(uid), allowed = std::move(allowed)](const nlohmann::json* entry) {
    if (!entry) return std::string("no ServiceEntry");
    if ((*entry)["metadata"].value("uid", "") != uid) return std::string("recreated");
    const auto lines = EndpointLines(*entry);
    for (const auto& ok : allowed) {
      if (lines == ok) return std::string();
    }
    return "endpoints " + JoinLines(lines);
  };
}

std::string Annotation(const TestBed& bed) {
  auto entry = GetServiceEntry(bed, "cluster1", kGuideEntry);
  if (!entry) return {};
  return testbed::RequestedDistribution(*entry);
}

Status Annotate(const TestBed& bed, const std::string& cluster, const std::string& value) {
  auto annotated = bed.Kubectl(
      cluster, {"annotate", "--overwrite", "service", "in-ambient", "-n", "httpbin",
                "networking.istio.io/traffic-distribution" + (value.empty() ? "-" : "=" + value)});
  return annotated.ok() ? Status(Ok{}) : MakeError(ErrorCode::kInternal, annotated.err);
}

Status WaitForAnnotation(const TestBed& bed, const std::string& value,
                         std::chrono::milliseconds timeout = 90s) {
  return WaitFor("traffic-distribution " + value + " in cluster1", timeout, [&](std::string* why) {
    *why = Annotation(bed);
    return *why == value;
  });
}

TEST_CASE("etcd of the remote and of the local cluster restarted",
          "[controller][faults][testbed]") {
  TestBed& bed = SharedBed();
  StartClean(bed);
  const bool kill = true;  // the harsh way: no clean shutdown of etcd
  auto started = StartController("restart-etcd", "globalsvc-faults-etcd");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(ApplySecret(bed, "faults-remote", ReadFile(bed.Kubeconfig("cluster2"))));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  const std::string uid = Uid(bed, kGuideEntry);
  REQUIRE_FALSE(uid.empty());

  SECTION("remote") {
    EntryPoller poller(bed, SameEntry(uid, {FullView(2), FullView(3)}));
    // The same scale without a fault, for comparison.
    REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 3));
    REQUIRE_OK(bed.WaitForReadyReplicas("cluster2", "httpbin", "in-ambient", 3, 120s));
    const auto baseline_ready = SteadyClock::now();
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(3), kGuideEntry, 90s));
    Figure("remote scale visible after its pods are ready, no fault",
           Seconds(SteadyClock::now() - baseline_ready));
    REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 2));
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2), kGuideEntry, 90s));
    REQUIRE_OK(bed.StopComponent("cluster2", Component::kEtcd, kill));
    // While cluster2's storage is down its API server answers nothing useful;
    // give the controller time to notice (its lists fail), then check that
    // cluster2's endpoints are all still there.
    CHECK_OK(WaitFor("cluster2's API server failing", 60s, [&](std::string* why) {
      auto ready = bed.Kubectl("cluster2", {"get", "--raw", "/readyz", "--request-timeout=5s"});
      *why = ready.out + ready.err;
      return !ready.ok();
    }));
    const auto down = SteadyClock::now();
    while (SteadyClock::now() - down < 10s) {
      REQUIRE(controller.Running());
      std::this_thread::sleep_for(500ms);
    }
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2), kGuideEntry, 5s));
    const auto restart = SteadyClock::now();
    REQUIRE_OK(bed.StartComponent("cluster2", Component::kEtcd));
    CHECK_OK(WaitFor("cluster2's API server ready", 60s, [&](std::string*) {
      return bed.Kubectl("cluster2", {"get", "--raw", "/readyz"}).ok();
    }));
    const auto healthy = SteadyClock::now();
    // A change in cluster2 made after recovery flows through.
    REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 3));
    REQUIRE_OK(bed.WaitForReadyReplicas("cluster2", "httpbin", "in-ambient", 3, 120s));
    const auto ready = SteadyClock::now();
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(3), kGuideEntry, 90s));
    const auto converged = SteadyClock::now();
    CHECK_OK(WaitForMetric(controller, "cluster2 connected", [](const ControllerProcess& c) {
      return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 1.0;
    }));
    CHECK_OK(WaitFor("5 polls", 60s, [&](std::string*) { return poller.polls() >= 5; }));
    poller.Stop();
    INFO("misses:\n" << Joined(poller.misses()));
    CHECK(poller.misses().empty());
    Figure(
        std::string("remote etcd ") + (kill ? "killed" : "stopped") + ": start to API server ready",
        Seconds(healthy - restart));
    Figure(std::string("remote etcd ") + (kill ? "killed" : "stopped") +
               ": remote scale visible after its pods are ready",
           Seconds(converged - ready));
    REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 2));
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2), kGuideEntry, 90s));
  }

  SECTION("local") {
    EntryPoller poller(bed, SameEntry(uid, {FullView(2)}));
    REQUIRE_OK(bed.StopComponent("cluster1", Component::kEtcd, kill));
    CHECK_OK(WaitFor("cluster1's API server failing", 60s, [&](std::string* why) {
      auto ready = bed.Kubectl("cluster1", {"get", "--raw", "/readyz", "--request-timeout=5s"});
      *why = ready.out + ready.err;
      return !ready.ok();
    }));
    // Long enough for the lease to expire: the controller stops writing.
    const auto down = SteadyClock::now();
    while (SteadyClock::now() - down < 15s) {
      REQUIRE(controller.Running());
      std::this_thread::sleep_for(500ms);
    }
    const auto restart = SteadyClock::now();
    REQUIRE_OK(bed.StartComponent("cluster1", Component::kEtcd));
    CHECK_OK(WaitFor("cluster1's API server ready", 60s, [&](std::string*) {
      return bed.Kubectl("cluster1", {"get", "--raw", "/readyz"}).ok();
    }));
    const auto healthy = SteadyClock::now();
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2), kGuideEntry, 5s));
    // A local change after recovery flows through.
    REQUIRE_OK(Annotate(bed, "cluster1", "PreferRegion"));
    const auto annotated = SteadyClock::now();
    CHECK_OK(WaitForAnnotation(bed, "PreferRegion"));
    const auto converged = SteadyClock::now();
    CHECK_OK(WaitForMetric(
        controller, "cluster1 connected and leading",
        [](const ControllerProcess& c) {
          return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster1"}}) == 1.0 &&
                 c.Metric("globalsvc_leader") == 1.0;
        },
        60s));
    CHECK_OK(WaitFor("5 polls", 60s, [&](std::string*) { return poller.polls() >= 5; }));
    poller.Stop();
    INFO("misses:\n" << Joined(poller.misses()));
    CHECK(poller.misses().empty());
    CHECK(Uid(bed, kGuideEntry) == uid);
    Figure(
        std::string("local etcd ") + (kill ? "killed" : "stopped") + ": start to API server ready",
        Seconds(healthy - restart));
    Figure(std::string("local etcd ") + (kill ? "killed" : "stopped") +
               ": local annotation visible after the change",
           Seconds(converged - annotated));
    REQUIRE_OK(Annotate(bed, "cluster1", ""));
    CHECK_OK(WaitForAnnotation(bed, "PreferNetwork"));
  }

  // No ServiceEntry deleted. (The delete metric counts WorkloadEntries and
  // peer Gateways too on this shape. Those deletes are printed, not checked:
  // a pod kwok replaces across an etcd restart rightly gets a new entry.)
  CHECK(controller.CountInLog("deleted kind=ServiceEntry") == 0);
  Figure("WorkloadEntries and peer Gateways deleted across the restarts",
         controller.CountInLog("deleted kind=WorkloadEntry") +
             controller.CountInLog("deleted kind=Gateway"),
         "");
  REQUIRE_OK(DeleteSecret(bed, "faults-remote"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", LocalView()));
  CHECK_OK(WaitForRemoteObjectsGone(bed, "cluster2"));
  CHECK(controller.Running());
  CHECK(controller.Terminate());
}

// A global Service of cluster2 only (no pods), in the default namespace.
std::string RemoteOnlyService(const std::string& name) {
  return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name +
         "\n  namespace: default\n  labels: {solo.io/service-scope: global}\n"
         "spec:\n  ports: [{name: http, port: 80}]\n";
}

TEST_CASE("Watch versions compacted away mid-run: a relist, no delete or recreate",
          "[controller][faults][testbed]") {
  TestBed& bed = SharedBed();
  StartClean(bed);

  SECTION("remote, cut off while its history is compacted") {
    // cluster2 is read through a proxy the test can cut.
    TcpProxy proxy(std::stoi(bed.ClusterValue("cluster2", "APISERVER_PORT")));
    REQUIRE_OK(bed.Delete("cluster2", RemoteOnlyService("expiry-new")));
    REQUIRE_OK(bed.Apply("cluster2", RemoteOnlyService("expiry-old")));
    auto started = StartController("restart-expiry-remote", "globalsvc-faults-expiry");
    REQUIRE_OK(StatusOf(started));
    ControllerProcess& controller = **started;
    REQUIRE_OK(ApplySecret(bed, "faults-remote",
                           KubeconfigThrough(ReadFile(bed.Kubeconfig("cluster2")), proxy.port())));
    REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
    REQUIRE_OK(WaitForEndpoints(bed, "cluster1", {}, "autogen.default.expiry-old"));
    const std::string uid = Uid(bed, kGuideEntry);
    const double relists_before =
        controller.MetricOr0("globalsvc_watch_relists_total", {{"cluster", "cluster2"}});
    EntryPoller poller(bed, SameEntry(uid, {FullView(2), FullView(3)}));

    proxy.Cut();
    CHECK_OK(WaitForMetric(controller, "cluster2 stale", [](const ControllerProcess& c) {
      return c.Metric("globalsvc_cluster_stale", {{"cluster", "cluster2"}}) == 1.0;
    }));
    // While the controller cannot see it: a scale, a deleted and a new
    // global Service; then the API server forgets its watch history and etcd
    // compacts it away, so every version the controller holds is expired.
    REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 3));
    REQUIRE_OK(bed.WaitForReadyReplicas("cluster2", "httpbin", "in-ambient", 3, 120s));
    REQUIRE_OK(bed.Delete("cluster2", RemoteOnlyService("expiry-old")));
    REQUIRE_OK(bed.Apply("cluster2", RemoteOnlyService("expiry-new")));
    REQUIRE_OK(bed.RestartComponent("cluster2", Component::kApiServer, /*kill=*/true));
    REQUIRE_OK(StatusOf(CompactEtcd(bed, "cluster2")));
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2), kGuideEntry, 5s));
    const auto restored = SteadyClock::now();
    proxy.Restore();

    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(3), kGuideEntry, 90s));
    CHECK_OK(WaitForEndpoints(bed, "cluster1", {}, "autogen.default.expiry-new", 90s));
    CHECK_OK(WaitFor("autogen.default.expiry-old deleted", 90s, [&](std::string*) {
      return !GetServiceEntry(bed, "cluster1", "autogen.default.expiry-old");
    }));
    const auto converged = SteadyClock::now();
    CHECK_OK(WaitForMetric(controller, "cluster2 relisted", [&](const ControllerProcess& c) {
      return c.MetricOr0("globalsvc_watch_relists_total", {{"cluster", "cluster2"}}) >
             relists_before;
    }));
    CHECK(controller.CountInLog("watch gone, relisting cluster=cluster2") >= 1);
    CHECK_OK(WaitFor("5 polls", 60s, [&](std::string*) { return poller.polls() >= 5; }));
    poller.Stop();
    INFO("misses:\n" << Joined(poller.misses()));
    CHECK(poller.misses().empty());
    Figure("remote changes made while cut off, history compacted: converged after reconnect",
           Seconds(converged - restored));
    // Exactly one ServiceEntry deleted: the deleted Service's. (The delete
    // metric counts WorkloadEntries and Gateways too on this shape.)
    CHECK(controller.CountInLog("deleted kind=ServiceEntry") == 1);
    CHECK(controller.CountInLog(
              "deleted kind=ServiceEntry name=default/autogen.default.expiry-old") == 1);

    REQUIRE_OK(bed.Delete("cluster2", RemoteOnlyService("expiry-new")));
    REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 2));
    REQUIRE_OK(DeleteSecret(bed, "faults-remote"));
    REQUIRE_OK(WaitForEndpoints(bed, "cluster1", LocalView()));
    CHECK_OK(WaitFor("autogen.default.expiry-new deleted", 60s, [&](std::string*) {
      return !GetServiceEntry(bed, "cluster1", "autogen.default.expiry-new");
    }));
    CHECK_OK(WaitForRemoteObjectsGone(bed, "cluster2"));
    CHECK(controller.Terminate());
  }

  SECTION("local, its API server restarted over compacted history") {
    auto started = StartController("restart-expiry-local", "globalsvc-faults-expiry");
    REQUIRE_OK(StatusOf(started));
    ControllerProcess& controller = **started;
    REQUIRE_OK(WaitForEndpoints(bed, "cluster1", LocalView()));
    // What an earlier case left (a WorkloadEntry of a pod kwok has replaced
    // since: its name hashes the address) is this controller's to delete at
    // start; from here on the restart must not make it delete anything.
    const double deletes_before =
        controller.MetricOr0("globalsvc_writes_total", {{"kind", "delete"}});
    const std::string uid = Uid(bed, kGuideEntry);
    const double relists_before =
        controller.MetricOr0("globalsvc_watch_relists_total", {{"cluster", "cluster1"}});
    EntryPoller poller(bed, SameEntry(uid, {LocalView()}));
    // History the controller's watches would resume from is gone twice over:
    // the restarted API server's watch cache starts now, and etcd compacted.
    REQUIRE_OK(Annotate(bed, "cluster1", "PreferClose"));
    REQUIRE_OK(bed.StopComponent("cluster1", Component::kApiServer, /*kill=*/true));
    REQUIRE_OK(StatusOf(CompactEtcd(bed, "cluster1")));
    REQUIRE_OK(bed.StartComponent("cluster1", Component::kApiServer));
    const auto healthy = SteadyClock::now();
    REQUIRE_OK(Annotate(bed, "cluster1", "PreferRegion"));
    CHECK_OK(WaitForAnnotation(bed, "PreferRegion"));
    const auto converged = SteadyClock::now();
    CHECK_OK(WaitForMetric(controller, "cluster1 relisted", [&](const ControllerProcess& c) {
      return c.MetricOr0("globalsvc_watch_relists_total", {{"cluster", "cluster1"}}) >
             relists_before;
    }));
    CHECK_OK(WaitFor("5 polls", 60s, [&](std::string*) { return poller.polls() >= 5; }));
    poller.Stop();
    INFO("misses:\n" << Joined(poller.misses()));
    CHECK(poller.misses().empty());
    CHECK(controller.MetricOr0("globalsvc_writes_total", {{"kind", "delete"}}) == deletes_before);
    Figure("local API server restarted over compacted history: annotation visible after healthy",
           Seconds(converged - healthy));
    REQUIRE_OK(Annotate(bed, "cluster1", ""));
    CHECK_OK(WaitForAnnotation(bed, "PreferNetwork"));
    CHECK(controller.Terminate());
  }
}

}  // namespace
}  // namespace globalsvc::controller
