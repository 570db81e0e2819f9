// The guide's step 5 in the WorkloadEntry shape, as upstream istiod reads it:
// the namespace's waypoint carries the global service, for ztunnel (its
// ambient index) and for the waypoint itself (the EDS istiod hands it, which
// explain --l7 must rank alike).

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "test/integration/controller/controller_test_support.h"
#include "test/integration/controller/istiod_view_support.h"

namespace globalsvc::controller::istiod_view {
namespace {

using testsupport::WaitFor;
using namespace std::chrono_literals;

constexpr const char* kWaypoint = R"(apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: httpbin-waypoint
  namespace: httpbin
spec:
  gatewayClassName: istio-waypoint
  listeners:
  - name: mesh
    port: 15008
    protocol: HBONE
    allowedRoutes:
      namespaces:
        from: Same
)";

// The guide's DestinationRule for the global host, with this failover order.
std::string FailoverRule(const std::string& order) {
  return std::string(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: in-ambient-failover
  namespace: httpbin
spec:
  host: in-ambient.httpbin.mesh.internal
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        enabled: true
        failoverPriority: )") +
         order + R"(
      simple: ROUND_ROBIN
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 3m
)";
}

// istiod's gateway controller deploys the waypoint (kwok runs its pod), and
// hands ztunnel the global service with that waypoint and its identity among
// the SANs: the waypoint, here or behind the other cluster's gateway,
// terminates the connection (istio/istio#61609).
void CheckZtunnelSendsThroughWaypoint(const TestBed& bed) {
  REQUIRE_STATUS_OK(bed.WaitForReadyReplicas("cluster1", "httpbin", "httpbin-waypoint", 1, 120s));
  CHECK_STATUS_OK(WaitFor("the global service uses the waypoint", 90s, [&](std::string* why) {
    auto current = AmbientView::Read(bed, "cluster1");
    if (!current.ok()) return false;
    const auto* global = current->Service(kHost);
    if (global == nullptr) return false;
    *why = "waypoint '" + global->waypoint + "', SANs " + Joined(global->subject_alt_names);
    return global->waypoint == "httpbin-waypoint.httpbin.svc.cluster.local" &&
           global->subject_alt_names ==
               std::vector<std::string>{"spiffe://cluster.local/ns/httpbin/sa/httpbin-waypoint",
                                        "spiffe://cluster.local/ns/httpbin/sa/in-ambient"};
  }));
  // The waypoint's own workload has the identity the SAN names.
  auto deployed = AmbientView::Read(bed, "cluster1");
  REQUIRE(deployed.ok());
  bool waypoint_identity = false;
  for (const auto& workload : deployed->workloads()) {
    if (workload.namespace_name == "httpbin" && workload.service_account == "httpbin-waypoint")
      waypoint_identity = true;
  }
  CHECK(waypoint_identity);
}

// L7: what istiod hands the waypoint (EDS priorities, read by an xDS client
// connected as the waypoint pod) is what explain --l7 ranks, under the
// guide's DestinationRule with `order`. It holds no endpoint of cluster2:
// upstream istiod gives a waypoint none on another network.
void CheckWaypointEdsAsExplained(const TestBed& bed, const testsupport::PlacedPod& waypoint_pod,
                                 std::size_t local_pods, const std::string& order) {
  INFO(order);
  REQUIRE_STATUS_OK(bed.Apply("cluster1", FailoverRule(order)));
  RankedGroups eds;
  CHECK_STATUS_OK(
      WaitFor("istiod hands the waypoint what explain --l7 ranks", 60s, [&](std::string* why) {
        auto from_istiod = WaypointEds(bed, "cluster1", waypoint_pod, kHost);
        auto from_explain = ExplainL7(bed, "cluster1", waypoint_pod, kHost);
        if (!from_istiod.ok() || !from_explain.ok()) {
          *why = !from_istiod.ok() ? from_istiod.error().message : from_explain.error().message;
          return false;
        }
        eds = *from_istiod;
        *why = "istiod " + Describe(eds) + " explain " + Describe(*from_explain);
        return eds.size() == 2 && eds == *from_explain;
      }));
  // One group per zone of cluster1; nothing of cluster2 (192.0.2.2, its
  // gateway, or its pods).
  std::size_t endpoints = 0;
  for (const auto& group : eds) {
    for (const auto& member : group) {
      CHECK(member.rfind("10.244.", 0) == 0);
      ++endpoints;
    }
  }
  CHECK(endpoints == local_pods);
}

// The Service's own label instead of its Namespace's: istiod reads it from
// our ServiceEntry, which carries it over.
void CheckServiceOwnWaypoint(const TestBed& bed) {
  REQUIRE(bed.Kubectl("cluster1", {"label", "--overwrite", "service", "in-ambient", "-n", "httpbin",
                                   "istio.io/use-waypoint=httpbin-waypoint"})
              .ok());
  REQUIRE(
      bed.Kubectl("cluster1", {"label", "namespace", "httpbin", "istio.io/use-waypoint-"}).ok());
  CHECK_STATUS_OK(
      WaitFor("the Service's own waypoint carries the global service", 60s, [&](std::string* why) {
        auto current = AmbientView::Read(bed, "cluster1");
        if (!current.ok()) return false;
        const auto* global = current->Service(kHost);
        if (global == nullptr) return false;
        auto entry = bed.GetJson("cluster1", {"serviceentries.networking.istio.io",
                                              testbed::kGuideEntry, "-n", "httpbin"});
        *why = "waypoint '" + global->waypoint + "'";
        return entry.ok() &&
               (*entry)["metadata"]["labels"].value("istio.io/use-waypoint", "") ==
                   "httpbin-waypoint" &&
               global->waypoint == "httpbin-waypoint.httpbin.svc.cluster.local";
      }));
  (void)bed.Kubectl("cluster1",
                    {"label", "service", "in-ambient", "-n", "httpbin", "istio.io/use-waypoint-"});
}

TEST_CASE(
    "--object-shape workload-entries, the guide's step 5: the namespace's waypoint carries the "
    "global service",
    "[controller][istiod]") {
  ShapedGuide guide;
  TestBed& bed = guide.bed;
  const GuideLines& lines = guide.lines;

  for (const char* cluster : {"cluster1", "cluster2"}) {
    REQUIRE_STATUS_OK(bed.Apply(cluster, kWaypoint));
    REQUIRE(bed.Kubectl(cluster, {"label", "--overwrite", "namespace", "httpbin",
                                  "istio.io/use-waypoint=httpbin-waypoint"})
                .ok());
  }
  CheckZtunnelSendsThroughWaypoint(bed);

  auto waypoints =
      bed.Pods("cluster1", "httpbin", "gateway.networking.k8s.io/gateway-name=httpbin-waypoint");
  REQUIRE(waypoints.ok());
  REQUIRE(waypoints->size() == 1);
  for (const char* order : {"[topology.kubernetes.io/zone, topology.kubernetes.io/region]",
                            "[topology.kubernetes.io/region, topology.kubernetes.io/zone]"}) {
    CheckWaypointEdsAsExplained(bed, waypoints->front(), lines.local1.size(), order);
  }
  (void)bed.Kubectl("cluster1", {"delete", "destinationrule", "-n", "httpbin",
                                 "in-ambient-failover", "--ignore-not-found"});

  CheckServiceOwnWaypoint(bed);

  for (const char* cluster : {"cluster1", "cluster2"}) {
    (void)bed.Kubectl(cluster, {"label", "namespace", "httpbin", "istio.io/use-waypoint-"});
    (void)bed.Delete(cluster, kWaypoint);
  }
  CHECK_STATUS_OK(WaitFor("the waypoint is no longer used", 60s, [&](std::string* why) {
    auto current = AmbientView::Read(bed, "cluster1");
    if (!current.ok()) return false;
    const auto* global = current->Service(kHost);
    if (global == nullptr) return false;
    *why = Joined(global->subject_alt_names);
    return global->waypoint.empty() && global->subject_alt_names.size() == 1;
  }));
}

}  // namespace
}  // namespace globalsvc::controller::istiod_view
