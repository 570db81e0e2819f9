// Segments in the WorkloadEntry shape, as upstream istiod reads them: each
// cluster shows each scope's hosts, endpoints and aliases exactly.

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

// Segments acme (domain mesh.acme, two aliases) and beta (mesh.beta), a copy
// of each in every cluster, as users apply them.
constexpr const char* kSegments = R"(apiVersion: globalsvc.io/v1alpha1
kind: Segment
metadata: {name: acme, namespace: istio-system}
spec:
  domain: mesh.acme
  aliases:
  - pattern: "{service}.acme"
  - pattern: "{service}.{labels['tier']}.acme"
---
apiVersion: globalsvc.io/v1alpha1
kind: Segment
metadata: {name: beta, namespace: istio-system}
spec:
  domain: mesh.beta
)";

// Two more Services over the guide's pods: one of scope segment, one of
// scope cluster.
constexpr const char* kScopedServices = R"(apiVersion: v1
kind: Service
metadata:
  name: seg
  namespace: httpbin
  labels: {solo.io/service-scope: segment}
spec:
  selector: {app: in-ambient}
  ports:
  - {name: http, port: 8000, targetPort: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: loc
  namespace: httpbin
  labels: {solo.io/service-scope: cluster}
spec:
  selector: {app: in-ambient}
  ports:
  - {name: http, port: 8000, targetPort: 8080}
)";

// Every cluster with globalsvc's CRDs, both Segments, the scoped Services and
// a remote Secret for each other cluster; cluster1 and cluster2 in acme,
// cluster3 in beta.
void JoinSegments(const TestBed& bed, const std::vector<std::string>& clusters) {
  ConnectClusters(bed, clusters);
  for (const auto& cluster : clusters) {
    REQUIRE(bed.Kubectl(cluster, {"wait", "--for=condition=Established",
                                  "crd/segments.globalsvc.io", "--timeout=60s"})
                .ok());
    REQUIRE(bed.Apply(cluster, kSegments).ok());
    REQUIRE(bed.Apply(cluster, kScopedServices).ok());
    REQUIRE(bed.Kubectl(cluster, {"label", "--overwrite", "namespace", "istio-system",
                                  std::string(mesh::kSegmentLabel) + "=" +
                                      (cluster == "cluster3" ? "beta" : "acme")})
                .ok());
  }
}

// Undoes JoinSegments, and what the controllers wrote.
void LeaveSegments(const TestBed& bed, const std::vector<std::string>& clusters) {
  for (const auto& cluster : clusters) {
    (void)bed.Kubectl(
        cluster, {"label", "namespace", "istio-system", std::string(mesh::kSegmentLabel) + "-"});
    (void)bed.Kubectl(cluster, {"delete", "segments.globalsvc.io", "--all", "-n", "istio-system",
                                "--ignore-not-found"});
    (void)bed.Kubectl(cluster,
                      {"delete", "service", "seg", "loc", "-n", "httpbin", "--ignore-not-found"});
  }
  DisconnectClusters(bed, clusters);
  RemoveShapeObjects(bed, clusters);
  (void)bed.Kubectl("cluster1", {"label", "service", "in-ambient", "-n", "httpbin", "tier-"});
}

TEST_CASE(
    "segments acme (cluster1, cluster2) and beta (cluster3): istiod of each cluster shows each "
    "scope's hosts, endpoints and aliases exactly",
    "[controller][istiod]") {
  TestBed& bed = SharedBed(3);
  const std::vector<std::string> clusters = {"cluster1", "cluster2", "cluster3"};
  JoinSegments(bed, clusters);
  REQUIRE(bed.Kubectl("cluster1", {"label", "--overwrite", "service", "in-ambient", "-n", "httpbin",
                                   "tier=web"})
              .ok());
  std::map<std::string, std::unique_ptr<Controller>> controllers;
  for (const auto& cluster : clusters) {
    ControllerOptions options = OptionsFor(bed, cluster);
    options.object_shape = ObjectShape::kWorkloadEntries;
    controllers[cluster] = std::make_unique<Controller>(options);
    REQUIRE(controllers[cluster]->Start().ok());
  }
  auto gateway_line = [&](const std::string& cluster, int weight) {
    auto gateway =
        bed.GetJson(cluster, {"deployment", "istio-eastwestgateway", "-n", "istio-system"});
    const auto labels = gateway.ok()
                            ? (*gateway)["metadata"].value("labels", nlohmann::json::object())
                            : nlohmann::json::object();
    return "httpbin  " + cluster + "-network " + labels.value("topology.kubernetes.io/region", "") +
           "/" + labels.value("topology.kubernetes.io/zone", "") + " " + std::to_string(weight) +
           " gateway";
  };
  auto pods = [&](const std::string& cluster) {
    auto lines = GuidePodLines(bed, cluster, cluster + "-network");
    return lines.ok() ? *lines : std::vector<std::string>{};
  };
  // The pods' lines under another Service's name: the identity stays the
  // pods' own, the Service name is not part of a line.
  auto hosts_of = [&](const std::string& cluster) {
    std::vector<std::string> hosts;
    auto view = AmbientView::Read(bed, cluster);
    if (!view.ok()) return hosts;
    for (const auto& service : view->services()) {
      if (service.hostname.find(".mesh.") != std::string::npos ||
          service.hostname.ends_with(".acme") || service.hostname.ends_with(".beta")) {
        hosts.push_back(service.hostname);
      }
    }
    std::sort(hosts.begin(), hosts.end());
    return hosts;
  };
  std::vector<std::string> acme_from_1 = pods("cluster1");
  acme_from_1.push_back(gateway_line("cluster2", 2));
  const std::vector<std::string> beta_from_1 = {gateway_line("cluster3", 2)};

  // cluster1 (acme): its segment's hosts hold cluster1 and cluster2; beta's
  // global service is there under beta's domain with cluster3 alone;
  // beta's segment-scoped one and every cluster-scoped one are not.
  CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", "in-ambient.httpbin.mesh.acme", acme_from_1));
  CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", "seg.httpbin.mesh.acme", acme_from_1));
  CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", "in-ambient.httpbin.mesh.beta", beta_from_1));
  // The aliases carry the same endpoints; cluster2's Service has no tier.
  CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", "in-ambient.acme", acme_from_1));
  CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", "in-ambient.web.acme", acme_from_1));
  CHECK(hosts_of("cluster1") ==
        std::vector<std::string>{"in-ambient.acme", "in-ambient.httpbin.mesh.acme",
                                 "in-ambient.httpbin.mesh.beta", "in-ambient.web.acme", "seg.acme",
                                 "seg.httpbin.mesh.acme"});

  // cluster3 (beta): its own segment alone under mesh.beta; acme's global
  // service under acme's domain and aliases, with cluster1 and cluster2.
  std::vector<std::string> beta_from_3 = pods("cluster3");
  const std::vector<std::string> acme_from_3 = {gateway_line("cluster1", 2),
                                                gateway_line("cluster2", 2)};
  CHECK_STATUS_OK(WaitForIdentities(bed, "cluster3", "in-ambient.httpbin.mesh.beta", beta_from_3));
  CHECK_STATUS_OK(WaitForIdentities(bed, "cluster3", "seg.httpbin.mesh.beta", beta_from_3));
  CHECK_STATUS_OK(WaitForIdentities(bed, "cluster3", "in-ambient.httpbin.mesh.acme", acme_from_3));
  CHECK(hosts_of("cluster3") ==
        std::vector<std::string>{"in-ambient.acme", "in-ambient.httpbin.mesh.acme",
                                 "in-ambient.httpbin.mesh.beta", "in-ambient.web.acme",
                                 "seg.httpbin.mesh.beta"});
  auto entry = bed.GetJson("cluster3", {"serviceentries.networking.istio.io",
                                        "autogen.acme.httpbin.in-ambient", "-n", "httpbin"});
  REQUIRE(entry.ok());
  CHECK((*entry)["metadata"]["labels"][mesh::kSegmentObjectLabel] == "acme");

  SECTION("a remote in a segment this cluster has no copy of is refused") {
    REQUIRE(
        bed.Kubectl("cluster1", {"delete", "segments.globalsvc.io", "beta", "-n", "istio-system"})
            .ok());
    CHECK_STATUS_OK(WaitFor("istiod of cluster1 drops beta's hosts", 90s, [&](std::string* why) {
      const auto hosts = hosts_of("cluster1");
      *why = Joined(hosts);
      return hosts == std::vector<std::string>{"in-ambient.acme", "in-ambient.httpbin.mesh.acme",
                                               "in-ambient.web.acme", "seg.acme",
                                               "seg.httpbin.mesh.acme"};
    }));
    CHECK_STATUS_OK(
        WaitForIdentities(bed, "cluster1", "in-ambient.httpbin.mesh.acme", acme_from_1));
    REQUIRE(bed.Apply("cluster1", kSegments).ok());
    CHECK_STATUS_OK(
        WaitForIdentities(bed, "cluster1", "in-ambient.httpbin.mesh.beta", beta_from_1));
  }

  SECTION("without segments, every cluster is back in mesh.internal") {
    for (const auto& cluster : clusters) {
      REQUIRE(bed.Kubectl(cluster, {"label", "namespace", "istio-system",
                                    std::string(mesh::kSegmentLabel) + "-"})
                  .ok());
    }
    std::vector<std::string> all_from_1 = pods("cluster1");
    all_from_1.push_back(gateway_line("cluster2", 2));
    all_from_1.push_back(gateway_line("cluster3", 2));
    CHECK_STATUS_OK(
        WaitForIdentities(bed, "cluster1", "in-ambient.httpbin.mesh.internal", all_from_1));
    CHECK_STATUS_OK(
        WaitFor("istiod of cluster1 shows only mesh.internal", 90s, [&](std::string* why) {
          const auto hosts = hosts_of("cluster1");
          *why = Joined(hosts);
          return hosts == std::vector<std::string>{"in-ambient.httpbin.mesh.internal",
                                                   "seg.httpbin.mesh.internal"};
        }));
  }

  for (auto& [cluster, controller] : controllers)
    controller->Stop();
  LeaveSegments(bed, clusters);
}

}  // namespace
}  // namespace globalsvc::controller::istiod_view
