// Three clusters on three networks in the WorkloadEntry shape, as upstream
// istiod reads them: one workload behind each remote network's gateway, and
// one peer Gateway per network.

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/mesh/model.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/integration/controller/istiod_view_support.h"

namespace globalsvc::controller::istiod_view {
namespace {

using testsupport::WaitFor;
using namespace std::chrono_literals;

TEST_CASE(
    "three clusters on three networks: istiod keeps one workload behind each network's "
    "gateway",
    "[controller][istiod]") {
  TestBed& bed = SharedBed(3);
  REQUIRE_STATUS_OK(AmbientView::Read(bed, "cluster1"));
  REQUIRE_STATUS_OK(testbed::PrepareGuideApp(bed));
  REQUIRE(
      bed.Kubectl("cluster1", {"apply", "-f", std::string(GLOBALSVC_SOURCE_DIR) + "/crds"}).ok());
  for (const char* remote : {"cluster2", "cluster3"}) {
    REQUIRE(bed.Apply("cluster1", testbed::RemoteSecretYaml(bed, remote)).ok());
  }
  ControllerOptions options = OptionsFor(bed, "cluster1");
  options.object_shape = ObjectShape::kWorkloadEntries;
  auto c1 = std::make_unique<Controller>(options);
  REQUIRE(c1->Start().ok());

  // Each remote gateway's locality, as the testbed labels it.
  auto gateway_locality = [&](const std::string& cluster) {
    auto gateway =
        bed.GetJson(cluster, {"deployment", "istio-eastwestgateway", "-n", "istio-system"});
    if (!gateway.ok()) return std::string("?");
    const auto labels = (*gateway)["metadata"].value("labels", nlohmann::json::object());
    return labels.value("topology.kubernetes.io/region", "") + "/" +
           labels.value("topology.kubernetes.io/zone", "");
  };
  auto local = GuidePodLines(bed, "cluster1", "cluster1-network");
  REQUIRE(local.ok());
  std::vector<std::string> want = *local;
  want.push_back("httpbin  cluster2-network " + gateway_locality("cluster2") + " 2 gateway");
  want.push_back("httpbin  cluster3-network " + gateway_locality("cluster3") + " 2 gateway");
  // Before this shape, istiod gave every address-less endpoint of one
  // ServiceEntry the same workload: one of the two networks was lost.
  CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, want));
  // One peer Gateway per remote network, each with its gateway's address.
  CHECK_STATUS_OK(WaitFor("a peer Gateway per network, addressed", 60s, [&](std::string* why) {
    auto listed =
        bed.GetJson("cluster1", {"gateways.gateway.networking.k8s.io", "-n", "istio-system", "-l",
                                 "app.kubernetes.io/managed-by=globalsvc"});
    if (!listed.ok()) return false;
    std::vector<std::string> seen;
    for (const auto& item : (*listed)["items"]) {
      const auto addresses = item.value("status", nlohmann::json::object())
                                 .value("addresses", nlohmann::json::array());
      seen.push_back(item["metadata"]["name"].get<std::string>() + "=" +
                     (addresses.empty() ? std::string("-") : addresses[0].value("value", "")));
    }
    *why = Joined(seen);
    return seen == std::vector<std::string>{"globalsvc-remote-cluster2-network=192.0.2.2",
                                            "globalsvc-remote-cluster3-network=192.0.2.3"};
  }));

  c1->Stop();
  RemoveShapeObjects(bed);
  for (const char* remote : {"cluster2", "cluster3"}) {
    (void)bed.Kubectl("cluster1",
                      {"delete", "secret", "-n", "istio-system",
                       std::string("globalsvc-remote-") + remote, "--ignore-not-found"});
  }
}

}  // namespace
}  // namespace globalsvc::controller::istiod_view
