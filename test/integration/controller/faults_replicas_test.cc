// Faults: two replicas of the controller; one writes, and the other takes
// over within the lease duration when the first goes.

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test/integration/controller/faults_world.h"

namespace globalsvc::controller::faults {
namespace {

TEST_CASE("Two replicas: one writes, the other takes over within the lease duration",
          "[controller][faults][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(world);
  const std::string lease = "globalsvc-faults-ha";
  // A lease left by an earlier run would delay the first leader.
  REQUIRE(bed.Kubectl("cluster1",
                      {"delete", "lease", "-n", "istio-system", lease, "--ignore-not-found"})
              .ok());
  REQUIRE_OK(ApplySecret(bed, "faults-remote", world.admin));
  auto a = StartController(world, "faults-replica-a", lease);
  REQUIRE_OK(StatusOf(a));
  auto b = StartController(world, "faults-replica-b", lease);
  REQUIRE_OK(StatusOf(b));
  std::vector<ControllerProcess*> replicas = {a->get(), b->get()};
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));

  ControllerProcess* leader = nullptr;
  ControllerProcess* standby = nullptr;
  REQUIRE_OK(WaitFor("exactly one leader", 30s, [&](std::string* why) {
    const auto la = replicas[0]->Metric("globalsvc_leader");
    const auto lb = replicas[1]->Metric("globalsvc_leader");
    *why = "a=" + std::to_string(la.value_or(-1)) + " b=" + std::to_string(lb.value_or(-1));
    if (!la || !lb || *la + *lb != 1.0) return false;
    leader = *la == 1.0 ? replicas[0] : replicas[1];
    standby = *la == 1.0 ? replicas[1] : replicas[0];
    return true;
  }));

  const auto annotate = [&](const std::string& value) {
    REQUIRE(
        bed.Kubectl("cluster1", {"annotate", "--overwrite", "service", "in-ambient", "-n",
                                 "httpbin", "networking.istio.io/traffic-distribution=" + value})
            .ok());
    REQUIRE_OK(WaitFor(value + " in cluster1", 60s, [&](std::string* why) {
      auto e = GetServiceEntry(bed, "cluster1", testbed::kGuideEntry);
      if (!e) return false;
      *why = (*e)["metadata"].value("annotations", nlohmann::json::object()).dump();
      return testbed::RequestedDistribution(*e) == value;
    }));
  };
  // Only the leader writes.
  annotate("PreferClose");
  CHECK(leader->MetricOr0("globalsvc_writes_total", {{"kind", "apply"}}) >= 1);
  CHECK(standby->MetricOr0("globalsvc_writes_total", {{"kind", "apply"}}) == 0);
  CHECK(standby->Metric("globalsvc_leader") == 0.0);

  // Only the leader records Events: both replicas see a Secret that cannot be
  // used, and it is reported once.
  // Named per run: Events of an earlier run stay for an hour.
  const std::string bad_secret = "faults-ha-unusable-" + std::to_string(::getpid());
  REQUIRE_OK(bed.Apply("cluster1", RemoteSecretYaml(bad_secret, "cluster9", world.malformed_yaml)));
  const auto reporters = [&] {
    return WarningEventReporters(bed, "cluster1", "istio-system", "Secret", bad_secret,
                                 "RemoteClusterSecret");
  };
  CHECK_OK(WaitFor("the leader's RemoteClusterSecret Event", 30s, [&](std::string* why) {
    const auto found = reporters();
    *why = "reported by: " + Joined({found.begin(), found.end()});
    return found.count(leader->identity()) == 1;
  }));
  std::this_thread::sleep_for(5s);  // the standby's 2 s loop has run twice
  CHECK(reporters() == std::set<std::string>{leader->identity()});
  CHECK(WarningEventReporters(bed, "cluster1", "istio-system", "Secret", bad_secret,
                              "RemoteClusterUnreachable") ==
        std::set<std::string>{leader->identity()});

  // The leader dies without releasing the lease; the ServiceEntry stays
  // exact and is never deleted or recreated (same uid) during the handover.
  auto before = GetServiceEntry(bed, "cluster1", testbed::kGuideEntry);
  REQUIRE(before);
  const std::string uid = (*before)["metadata"].value("uid", "");
  EntryPoller poller(bed, [&](const nlohmann::json* entry) -> std::string {
    if (!entry) return "no ServiceEntry";
    if ((*entry)["metadata"].value("uid", "") != uid) return "recreated";
    auto lines = EndpointLines(*entry);
    return lines == FullView(2) ? "" : "endpoints " + JoinLines(lines);
  });
  const auto killed = SteadyClock::now();
  leader->Kill();
  REQUIRE_OK(WaitForMetric(
      *standby, "the standby leads",
      [](const ControllerProcess& c) { return c.Metric("globalsvc_leader") == 1.0; }, 30s));
  const double handover = Seconds(SteadyClock::now() - killed);
  CHECK(handover <= 15 + 5);
  auto holder = bed.GetJson("cluster1", {"lease", "-n", "istio-system", lease});
  REQUIRE(holder.ok());
  CHECK((*holder)["spec"].value("holderIdentity", "") == standby->identity());
  // The new leader writes.
  annotate("PreferNetwork");
  CHECK(standby->MetricOr0("globalsvc_writes_total", {{"kind", "apply"}}) >= 1);
  CHECK_OK(poller.StopAfter(5));
  INFO("misses:\n" << Joined(poller.misses()));
  CHECK(poller.misses().empty());
  CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  Figure("leader handover after SIGKILL of the leader", handover);
  // A problem that lasts is reported by the new leader too.
  CHECK_OK(WaitFor("the new leader's RemoteClusterSecret Event", 30s, [&](std::string* why) {
    const auto found = reporters();
    *why = "reported by: " + Joined({found.begin(), found.end()});
    return found.count(standby->identity()) == 1;
  }));
  REQUIRE_OK(DeleteSecret(bed, bad_secret));

  REQUIRE(bed.Kubectl("cluster1", {"annotate", "service", "in-ambient", "-n", "httpbin",
                                   "networking.istio.io/traffic-distribution-"})
              .ok());
  REQUIRE_OK(DeleteSecret(bed, "faults-remote"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
  StopAndCheckLog(world, *standby);
  CheckLog(world, *leader);
}

}  // namespace
}  // namespace globalsvc::controller::faults
