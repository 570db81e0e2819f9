// Takeover in the WorkloadEntry shape, as upstream istiod reads it: the
// cluster-local name of a global service carries every cluster's endpoints.

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "lib/mesh/model.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/integration/controller/istiod_view_support.h"

namespace globalsvc::controller::istiod_view {
namespace {

using testsupport::WaitFor;
using namespace std::chrono_literals;

TEST_CASE(
    "--object-shape workload-entries with takeover: the Kubernetes Service's own name reaches "
    "the other cluster",
    "[controller][istiod]") {
  ShapedGuide guide;
  TestBed& bed = guide.bed;
  const GuideLines& lines = guide.lines;

  SECTION("takeover of a service only cluster2 has: its cluster-local name reaches cluster2") {
    std::string echo = kRemoteOnlyEcho;
    const std::string scope = "labels: {solo.io/service-scope: global}";
    echo.replace(echo.find(scope), scope.size(),
                 "labels: {solo.io/service-scope: global, solo.io/service-takeover: 'true'}");
    // An earlier case deletes the namespace without waiting.
    (void)bed.Kubectl("cluster2",
                      {"wait", "--for=delete", "namespace/remote-only", "--timeout=120s"});
    REQUIRE_STATUS_OK(bed.Apply("cluster2", echo));
    const std::vector<std::string> behind_gateway = {
        "istio-system  cluster2-network us-west-2/us-west-2a 1 gateway"};
    CHECK_STATUS_OK(
        WaitForIdentities(bed, "cluster1", "echo.remote-only.mesh.internal", behind_gateway));
    CHECK_STATUS_OK(
        WaitForIdentities(bed, "cluster1", "echo.remote-only.svc.cluster.local", behind_gateway));
    auto taken_view = AmbientView::Read(bed, "cluster1");
    REQUIRE(taken_view.ok());
    const auto* taken = taken_view->Service("echo.remote-only.svc.cluster.local");
    REQUIRE(taken != nullptr);
    CHECK(taken->namespace_name == "istio-system");
    CHECK_FALSE(taken->vips.empty());  // what ztunnel's DNS answers with
    // Takeover off again: the cluster-local host goes, the global one stays.
    REQUIRE(bed.Kubectl("cluster2", {"label", "--overwrite", "service", "echo", "-n", "remote-only",
                                     "solo.io/service-takeover=false"})
                .ok());
    CHECK_STATUS_OK(WaitFor(
        "istiod of cluster1 drops echo.remote-only.svc.cluster.local", 60s, [&](std::string* why) {
          auto now = AmbientView::Read(bed, "cluster1");
          *why = now.ok() ? "still there" : now.error().message;
          return now.ok() && now->Service("echo.remote-only.svc.cluster.local") == nullptr &&
                 now->Service("echo.remote-only.mesh.internal") != nullptr;
        }));
    (void)bed.Kubectl("cluster2", {"delete", "namespace", "remote-only", "--wait=false"});
  }

  SECTION("takeover of the guide's Service: the Kubernetes Service reaches the other cluster") {
    const std::string local_host = "in-ambient.httpbin.svc.cluster.local";
    REQUIRE(bed.Kubectl("cluster1", {"label", "--overwrite", "service", "in-ambient", "-n",
                                     "httpbin", "solo.io/service-takeover=true"})
                .ok());
    // cluster1's Service now holds cluster2 behind its gateway too, through
    // the same WorkloadEntry as the global host.
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", local_host, lines.global1));
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, lines.global1));
    // cluster2's Service says nothing, so cluster1's label decides there too.
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster2", local_host, lines.global2));
    // An explicit false in cluster2 keeps cluster2's Service its own.
    REQUIRE(bed.Kubectl("cluster2", {"label", "--overwrite", "service", "in-ambient", "-n",
                                     "httpbin", "solo.io/service-takeover=false"})
                .ok());
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster2", local_host, lines.local2));
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", local_host, lines.global1));
    // Without the label, cluster1's Service is local again.
    REQUIRE(bed.Kubectl("cluster1", {"label", "service", "in-ambient", "-n", "httpbin",
                                     "solo.io/service-takeover-"})
                .ok());
    REQUIRE(bed.Kubectl("cluster2", {"label", "service", "in-ambient", "-n", "httpbin",
                                     "solo.io/service-takeover-"})
                .ok());
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", local_host, lines.local1));
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, lines.global1));
    auto joining = bed.Kubectl("cluster1", {"get", "workloadentries.networking.istio.io", "-n",
                                            "httpbin", "-l", "app=in-ambient", "-o", "name"});
    CHECK(joining.ok());
    CHECK(joining.out.empty());  // the selector's labels are gone with takeover
  }
}

}  // namespace
}  // namespace globalsvc::controller::istiod_view
