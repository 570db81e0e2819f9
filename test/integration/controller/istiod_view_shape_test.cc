// The WorkloadEntry shape (the default) as upstream istiod reads it: pods as
// themselves, the other cluster behind its resolved gateway, the Kubernetes
// Service left local; what a restart, a remote scaled to zero, a remote-only
// service, a flat network, hand-made slices and a second gateway zone make
// of it.

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
    "--object-shape workload-entries: istiod sees the pods as themselves and the other cluster "
    "behind its resolved gateway, and the Kubernetes Service stays local",
    "[controller][istiod]") {
  ShapedGuide guide;
  TestBed& bed = guide.bed;
  const GuideLines& lines = guide.lines;
  auto& pair = guide.pair;
  // The cluster-local name keeps exactly the local pods.
  CHECK_STATUS_OK(
      WaitForIdentities(bed, "cluster1", "in-ambient.httpbin.svc.cluster.local", lines.local1));
  auto view = AmbientView::Read(bed, "cluster1");
  REQUIRE(view.ok());
  const auto* service = view->Service(kHost);
  REQUIRE(service != nullptr);
  CHECK_FALSE(service->vips.empty());
  CHECK(service->subject_alt_names ==
        std::vector<std::string>{"spiffe://cluster.local/ns/httpbin/sa/in-ambient"});
  // What the inline shape wrote in the control-plane namespace (an earlier
  // case, or an earlier version) is gone: one ServiceEntry per host.
  const auto inline_left =
      bed.Kubectl("cluster1", {"get", "serviceentries.networking.istio.io", "-n", "istio-system",
                               testbed::kGuideEntry, "-o", "name", "--ignore-not-found"});
  CHECK(inline_left.ok());
  CHECK(inline_left.out.empty());
  // istiod took the peer Gateway's address from its spec.
  CHECK_STATUS_OK(WaitFor("the peer Gateway has its address in status", 60s, [&](std::string*) {
    auto peer =
        bed.GetJson("cluster1", {"gateways.gateway.networking.k8s.io",
                                 "globalsvc-remote-cluster2-network", "-n", "istio-system"});
    if (!peer.ok()) return false;
    const auto addresses =
        peer->value("status", nlohmann::json::object()).value("addresses", nlohmann::json::array());
    return !addresses.empty() && addresses[0].value("value", "") == "192.0.2.2";
  }));

  // explain reads the shape live (the ServiceEntry with its WorkloadEntries)
  // and ranks as ztunnel does with PreferClose: the client's zone, its
  // region, then cluster2 behind its gateway.
  const auto explained = testsupport::RunCommand(
      {GLOBALSVC_BINARY, "explain", kHost, "--from", "cluster1/us-east-1a", "--kubeconfig",
       bed.Kubeconfig("cluster1").string(), "--context", "cluster1", "-o", "json"});
  INFO(explained.out << explained.err);
  REQUIRE(explained.ok());
  const auto explanation = nlohmann::json::parse(explained.out);
  std::vector<std::string> ranked;
  for (const auto& group : explanation["groups"]) {
    for (const auto& endpoint : group["endpoints"]) {
      ranked.push_back(std::to_string(group["group"].get<int>()) + " " +
                       endpoint["cluster"].get<std::string>() + " " +
                       endpoint["locality"].get<std::string>() + " " +
                       std::to_string(endpoint["weight"].get<int>()));
    }
  }
  CHECK(ranked == std::vector<std::string>{"1 cluster1 us-east-1/us-east-1a 1",
                                           "2 cluster1 us-east-1/us-east-1b 1",
                                           "3 cluster2 us-west-2/us-west-2a 2"});
  SECTION("a restart writes nothing; a remote scaled to zero deletes its WorkloadEntry") {
    std::this_thread::sleep_for(3s);  // istiod's status updates reach our watches
    pair.RestartCluster1();
    REQUIRE_STATUS_OK(WaitForIdle(*pair.c1));
    CHECK(Writes(*pair.c1) == 0);
    CHECK(testbed::MetricValue(pair.c1->registry().Render(),
                               "globalsvc_writes_total{kind=\"delete\"}") == 0);

    // A remote without ready endpoints has no WorkloadEntry at all (weight 0
    // would read as capacity 1).
    REQUIRE_STATUS_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 0));
    REQUIRE_STATUS_OK(bed.WaitForReadyReplicas("cluster2", "httpbin", "in-ambient", 0, 120s));
    REQUIRE_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, lines.local1));
    std::this_thread::sleep_for(2s);
    // The one gateway WorkloadEntry is deleted; the pods may stop one at a
    // time, which is one weight change before it (2, 1, none).
    CHECK(testbed::MetricValue(pair.c1->registry().Render(),
                               "globalsvc_writes_total{kind=\"delete\"}") == 1);
    CHECK(Writes(*pair.c1) <= 1);
    REQUIRE_STATUS_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 2));
    REQUIRE_STATUS_OK(bed.WaitForReadyReplicas("cluster2", "httpbin", "in-ambient", 2, 120s));
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, lines.global1));
  }

  SECTION("a service only cluster2 has lives in the control-plane namespace here") {
    REQUIRE_STATUS_OK(bed.Apply("cluster2", kRemoteOnlyEcho));
    CHECK_STATUS_OK(
        WaitForIdentities(bed, "cluster1", "echo.remote-only.mesh.internal",
                          {"istio-system  cluster2-network us-west-2/us-west-2a 1 gateway"}));
    auto entry = bed.GetJson("cluster1", {"serviceentries.networking.istio.io",
                                          "autogen.remote-only.echo", "-n", "istio-system"});
    REQUIRE(entry.ok());
    CHECK((*entry)["spec"]["workloadSelector"]["labels"][mesh::kGlobalServiceLabel] ==
          "remote-only.echo");
    (void)bed.Kubectl("cluster2", {"delete", "namespace", "remote-only", "--wait=false"});
    CHECK_STATUS_OK(
        WaitFor("the remote-only service's objects are gone", 90s, [&](std::string* why) {
          auto left = bed.Kubectl("cluster1",
                                  {"get",
                                   "serviceentries.networking.istio.io,"
                                   "workloadentries.networking.istio.io",
                                   "-n", "istio-system", "-l",
                                   "solo.io/parent-service-namespace=remote-only", "-o", "name"});
          *why = left.out;
          return left.ok() && left.out.empty();
        }));
  }

  SECTION("a remote pinned to our network joins with its pods as themselves, no peer Gateway") {
    REQUIRE(bed.Kubectl("cluster1",
                        {"annotate", "--overwrite", "secret", "-n", "istio-system",
                         "globalsvc-remote-cluster2", "globalsvc.solo.io/network=cluster1-network"})
                .ok());
    auto flat = GuidePodLines(bed, "cluster2", "cluster1-network");
    REQUIRE(flat.ok());
    std::vector<std::string> want = lines.local1;
    want.insert(want.end(), flat->begin(), flat->end());
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, want));
    CHECK_STATUS_OK(WaitFor("no peer Gateway is left", 60s, [&](std::string* why) {
      auto left = bed.Kubectl(
          "cluster1", {"get", "gateways.gateway.networking.k8s.io", "-n", "istio-system", "-l",
                       "app.kubernetes.io/managed-by=globalsvc", "-o", "name"});
      *why = left.out;
      return left.ok() && left.out.empty();
    }));
  }

  SECTION("a Service without a selector exports the endpoints of its own EndpointSlices") {
    // Hand-made slices name no Pod: the workload has its address and no
    // service account (istiod gives it none).
    REQUIRE_STATUS_OK(bed.Apply("cluster1", R"(apiVersion: v1
kind: Service
metadata:
  name: manual
  namespace: httpbin
  labels: {solo.io/service-scope: global}
spec:
  ports:
  - {name: http, port: 8000, targetPort: 8080}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: manual-1
  namespace: httpbin
  labels: {kubernetes.io/service-name: manual}
addressType: IPv4
ports:
- {name: http, port: 8080, protocol: TCP}
endpoints:
- addresses: [10.250.0.9]
  conditions: {ready: true}
  zone: us-east-1a
)"));
    CHECK_STATUS_OK(
        WaitForIdentities(bed, "cluster1", "manual.httpbin.mesh.internal",
                          {"httpbin  cluster1-network us-east-1/us-east-1a 1 10.250.0.9"}));
    (void)bed.Kubectl("cluster1", {"delete", "service,endpointslice", "-n", "httpbin", "manual",
                                   "manual-1", "--ignore-not-found"});
  }

  SECTION("a remote with gateways in two zones: one workload behind each") {
    const std::string second_gateway = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-eastwestgateway-b
  namespace: istio-system
  labels:
    app: istio-eastwestgateway-b
    topology.istio.io/network: cluster2-network
    topology.kubernetes.io/region: us-west-2
    topology.kubernetes.io/zone: us-west-2b
spec:
  replicas: 0
  selector:
    matchLabels: {app: istio-eastwestgateway-b}
  template:
    metadata:
      labels: {app: istio-eastwestgateway-b}
    spec:
      containers:
      - name: istio-proxy
        image: docker.io/istio/proxyv2:1.28.0
---
apiVersion: v1
kind: Service
metadata:
  name: istio-eastwestgateway-b
  namespace: istio-system
  labels: {topology.istio.io/network: cluster2-network}
spec:
  selector: {app: istio-eastwestgateway-b}
  externalIPs: [192.0.2.12]
  ports:
  - {name: tls-hbone, port: 15008}
)";
    REQUIRE_STATUS_OK(bed.Apply("cluster2", second_gateway));
    // Each remote endpoint goes behind the gateway of its own zone.
    std::vector<std::string> want = lines.local1;
    want.push_back("httpbin  cluster2-network us-west-2/us-west-2a 1 gateway");
    want.push_back("httpbin  cluster2-network us-west-2/us-west-2b 1 gateway");
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, want));
    (void)bed.Delete("cluster2", second_gateway);
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, lines.global1));
  }

  SECTION("a service no longer global leaves nothing behind") {
    REQUIRE(bed.Kubectl("cluster1", {"label", "service", "in-ambient", "-n", "httpbin",
                                     "solo.io/service-scope-"})
                .ok());
    REQUIRE(bed.Kubectl("cluster2", {"label", "service", "in-ambient", "-n", "httpbin",
                                     "solo.io/service-scope-"})
                .ok());
    CHECK_STATUS_OK(
        WaitFor("no object of in-ambient is left in cluster1", 60s, [&](std::string* why) {
          auto left = bed.Kubectl("cluster1", {"get",
                                               "serviceentries.networking.istio.io,"
                                               "workloadentries.networking.istio.io",
                                               "-n", "httpbin", "-o", "name"});
          *why = left.out;
          return left.ok() && left.out.empty();
        }));
    REQUIRE_STATUS_OK(testbed::PrepareGuideApp(bed));  // global again for later cases
  }
}

}  // namespace
}  // namespace globalsvc::controller::istiod_view
