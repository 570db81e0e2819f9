// Faults: the remote and the local kube-apiserver killed and restarted under
// a running controller (a child process, as in production).

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test/integration/controller/faults_world.h"

namespace globalsvc::controller::faults {
namespace {

TEST_CASE("Remote and local kube-apiservers killed and restarted",
          "[controller][faults][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(world);
  auto started = StartController(world, "faults-apiserver", "globalsvc-faults-apiserver");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(ApplySecret(bed, "faults-remote", world.admin));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));

  SECTION("remote") {
    REQUIRE_OK(bed.StopComponent("cluster2", Component::kApiServer, /*kill=*/true));
    // Down: cluster2 is stale and its last known endpoints stay.
    CHECK_OK(WaitForMetric(controller, "cluster2 stale", [](const ControllerProcess& c) {
      return c.Metric("globalsvc_cluster_stale", {{"cluster", "cluster2"}}) == 1.0 &&
             c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 0.0;
    }));
    auto entry = GetServiceEntry(bed, "cluster1", testbed::kGuideEntry);
    REQUIRE(entry);
    CHECK(EndpointLines(*entry) == FullView(2));
    const auto restart = SteadyClock::now();
    REQUIRE_OK(bed.StartComponent("cluster2", Component::kApiServer));
    const auto healthy = SteadyClock::now();
    CHECK_OK(WaitForMetric(
        controller, "cluster2 connected again",
        [](const ControllerProcess& c) {
          return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 1.0 &&
                 c.Metric("globalsvc_cluster_stale", {{"cluster", "cluster2"}}) == 0.0;
        },
        60s));
    const auto reconnected = SteadyClock::now();
    // Changes in cluster2 flow through again. cluster2's own controllers
    // (ReplicaSet, kwok, EndpointSlice) come back from the outage with their
    // own retry backoff: wait for its EndpointSlices first, so a slow
    // cluster2 is told apart from a controller that missed the change.
    REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 0));
    REQUIRE_OK(testbed::SettleGuideApp(bed, "cluster2", 0));
    const auto sliced = SteadyClock::now();
    CHECK_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
    const auto drained = SteadyClock::now();
    REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 2));
    REQUIRE_OK(testbed::SettleGuideApp(bed, "cluster2", 2));
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
    Figure("remote apiserver start (kill to healthy)", Seconds(healthy - restart));
    Figure("remote cluster connected after its apiserver is healthy",
           Seconds(reconnected - healthy));
    Figure("remote scale-to-0 in cluster2's own EndpointSlices after its apiserver is healthy",
           Seconds(sliced - healthy));
    Figure("the same in cluster1's ServiceEntry after cluster2's EndpointSlices show it",
           Seconds(drained - sliced));
  }

  SECTION("local") {
    REQUIRE_OK(bed.StopComponent("cluster1", Component::kApiServer, /*kill=*/true));
    CHECK_OK(WaitForMetric(controller, "cluster1 not connected", [](const ControllerProcess& c) {
      return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster1"}}) == 0.0;
    }));
    REQUIRE_OK(bed.StartComponent("cluster1", Component::kApiServer));
    const auto healthy = SteadyClock::now();
    CHECK_OK(WaitForMetric(
        controller, "cluster1 connected and leading",
        [](const ControllerProcess& c) {
          return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster1"}}) == 1.0 &&
                 c.Metric("globalsvc_leader") == 1.0;
        },
        60s));
    const auto reconnected = SteadyClock::now();
    // The controller reconciles again: an annotation and a scale flow through.
    REQUIRE(bed.Kubectl("cluster1",
                        {"annotate", "--overwrite", "service", "in-ambient", "-n", "httpbin",
                         "networking.istio.io/traffic-distribution=PreferRegion"})
                .ok());
    CHECK_OK(WaitFor("PreferRegion in cluster1", 60s, [&](std::string* why) {
      auto e = GetServiceEntry(bed, "cluster1", testbed::kGuideEntry);
      if (!e) return false;
      *why = (*e)["metadata"].value("annotations", nlohmann::json::object()).dump();
      return testbed::RequestedDistribution(*e) == "PreferRegion";
    }));
    const auto annotated = SteadyClock::now();
    REQUIRE_OK(bed.Scale("cluster1", "httpbin", "in-ambient", 0));
    // The cluster's own controllers also reconnect after the restart and can
    // be slow to update the EndpointSlice on a loaded machine: wait for the
    // slice first, so what is measured next is globalsvc alone.
    CHECK_OK(WaitFor("cluster1's EndpointSlice emptied", 180s, [&](std::string* why) {
      auto slices = bed.GetJson("cluster1", {"endpointslices", "-n", "httpbin", "-l",
                                             "kubernetes.io/service-name=in-ambient"});
      if (!slices.ok()) return false;
      std::size_t ready = 0;
      for (const auto& slice : (*slices)["items"]) {
        for (const auto& endpoint : slice.value("endpoints", nlohmann::json::array())) {
          if (endpoint.value("conditions", nlohmann::json::object()).value("ready", true)) ++ready;
        }
      }
      *why = std::to_string(ready) + " ready endpoints";
      return ready == 0;
    }));
    CHECK_OK(WaitForEndpoints(bed, "cluster1",
                              {"cluster2 cluster2-network us-west-2/us-west-2a 2 gateway"}));
    REQUIRE_OK(bed.Scale("cluster1", "httpbin", "in-ambient", 2));
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
    Figure("local controller connected and leading after its apiserver is healthy",
           Seconds(reconnected - healthy));
    Figure("local annotation visible after its apiserver is healthy", Seconds(annotated - healthy));
  }

  REQUIRE_OK(DeleteSecret(bed, "faults-remote"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
  StopAndCheckLog(world, controller);
}

}  // namespace
}  // namespace globalsvc::controller::faults
