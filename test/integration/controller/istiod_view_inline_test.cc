// The inline shape as upstream istiod reads it: the Services and Workloads
// of istiod's ambient index (what ztunnel receives), on a test bed that runs
// one istiod per cluster (scripts/testbed up --istio).

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "test/integration/controller/controller_test_support.h"
#include "test/integration/controller/istiod_view_support.h"

namespace globalsvc::controller::istiod_view {
namespace {

using testsupport::WaitFor;
using namespace std::chrono_literals;

TEST_CASE("istiod of each cluster sees its pods and the other cluster behind its gateway",
          "[controller][istiod]") {
  TestBed& bed = SharedBed(2);
  GuidePair pair(bed, ObjectShape::kInline);
  auto& c1 = pair.c1;

  // ServiceEntry workloads carry the cluster ID of the istiod that reads
  // them; the remote cluster shows as one address-less workload on its
  // network, whose capacity is its ready endpoints.
  REQUIRE_STATUS_OK(
      WaitForAmbientView(bed, "cluster1",
                         {"cluster1 cluster1-network us-east-1/us-east-1a 1 direct",
                          "cluster1 cluster1-network us-east-1/us-east-1b 1 direct",
                          "cluster1 cluster2-network us-west-2/us-west-2a 2 gateway"}));
  REQUIRE_STATUS_OK(
      WaitForAmbientView(bed, "cluster2",
                         {"cluster2 cluster1-network us-east-1/us-east-1a 2 gateway",
                          "cluster2 cluster2-network us-west-2/us-west-2a 1 direct",
                          "cluster2 cluster2-network us-west-2/us-west-2b 1 direct"}));
  // The guide's default, PreferNetwork, is written as PreferClose: istiod
  // hands ztunnel a preference for the client's network (then region, zone)
  // instead of none, so requests stay in the cluster while it has endpoints.
  // (Waited for: an earlier section may have left another value behind.)
  for (const char* cluster : {"cluster1", "cluster2"}) {
    CHECK_STATUS_OK(WaitForLoadBalancing(bed, cluster, "FAILOVER NETWORK,REGION,ZONE"));
  }

  SECTION("istiod's status writes on our ServiceEntries cause no write of ours") {
    // istiod allocates the VIP into the ServiceEntry's status: a writer that
    // compared status, or fought over it, would write again and again.
    REQUIRE_STATUS_OK(WaitFor("istiod wrote the VIP into status", 60s, [&](std::string* why) {
      auto entry = testbed::GetServiceEntry(bed, "cluster1", testbed::kGuideEntry);
      if (!entry) return false;
      *why = entry->value("status", nlohmann::json::object()).dump();
      return !entry->value("status", nlohmann::json::object())
                  .value("addresses", nlohmann::json::array())
                  .empty();
    }));
    const double converged = Writes(*c1);
    std::this_thread::sleep_for(3s);  // istiod's status updates reach our watch
    CHECK(Writes(*c1) == converged);

    // A restart writes nothing.
    pair.RestartCluster1();
    REQUIRE_STATUS_OK(WaitForIdle(*c1));
    CHECK(Writes(*c1) == 0);
    CHECK(testbed::MetricValue(c1->registry().Render(),
                               "globalsvc_writes_total{kind=\"status\"}") == 0);

    // One change is one write, whatever istiod does to the status after it.
    REQUIRE(bed.Kubectl("cluster1",
                        {"annotate", "--overwrite", "service", "in-ambient", "-n", "httpbin",
                         "networking.istio.io/traffic-distribution=PreferSameNode"})
                .ok());
    REQUIRE_STATUS_OK(
        WaitForLoadBalancing(bed, "cluster1", "FAILOVER NETWORK,REGION,ZONE,SUBZONE,NODE"));
    std::this_thread::sleep_for(3s);
    CHECK(Writes(*c1) == 1);
    REQUIRE(bed.Kubectl("cluster1", {"annotate", "service", "in-ambient", "-n", "httpbin",
                                     "networking.istio.io/traffic-distribution-"})
                .ok());
    // Back to the default before the controllers stop, for the next case.
    CHECK_STATUS_OK(WaitForLoadBalancing(bed, "cluster1", "FAILOVER NETWORK,REGION,ZONE"));
  }

  SECTION("a remote scaled to zero leaves no workload; a service only a remote has gets its host") {
    // No workload at all rather than one of weight 0 (which istiod reads as
    // capacity 1): ztunnel sends nothing to a cluster without endpoints.
    REQUIRE_STATUS_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 0));
    REQUIRE_STATUS_OK(bed.WaitForReadyReplicas("cluster2", "httpbin", "in-ambient", 0, 120s));
    REQUIRE_STATUS_OK(
        WaitForAmbientView(bed, "cluster1",
                           {"cluster1 cluster1-network us-east-1/us-east-1a 1 direct",
                            "cluster1 cluster1-network us-east-1/us-east-1b 1 direct"}));

    // A namespace that exists in cluster2 only: cluster1 still gets the
    // host, reached through cluster2's gateway (its objects live in the
    // control-plane namespace, which always exists).
    REQUIRE_STATUS_OK(bed.Apply("cluster2", kRemoteOnlyEcho));
    REQUIRE(bed.Kubectl("cluster1",
                        {"get", "namespace", "remote-only", "--ignore-not-found", "-o", "name"})
                .out.empty());
    CHECK_STATUS_OK(WaitForAmbientView(bed, "cluster1",
                                       {"cluster1 cluster2-network us-west-2/us-west-2a 1 gateway"},
                                       120s, "echo.remote-only.mesh.internal"));
    (void)bed.Kubectl("cluster2", {"delete", "namespace", "remote-only", "--wait=false"});
  }

  SECTION("a remote pinned to our network joins with its pods, each in its own zone") {
    // The Secret's network annotation says cluster2 shares cluster1's
    // network (a flat network): its pods are reached directly.
    REQUIRE(bed.Kubectl("cluster1",
                        {"annotate", "--overwrite", "secret", "-n", "istio-system",
                         "globalsvc-remote-cluster2", "globalsvc.solo.io/network=cluster1-network"})
                .ok());
    CHECK_STATUS_OK(
        WaitForAmbientView(bed, "cluster1",
                           {"cluster1 cluster1-network us-east-1/us-east-1a 1 direct",
                            "cluster1 cluster1-network us-east-1/us-east-1b 1 direct",
                            "cluster1 cluster1-network us-west-2/us-west-2a 1 direct",
                            "cluster1 cluster1-network us-west-2/us-west-2b 1 direct"}));
  }

  SECTION("a remote scale reaches istiod's view; a removed Secret takes the remote out") {
    REQUIRE_STATUS_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 3));
    REQUIRE_STATUS_OK(bed.WaitForReadyReplicas("cluster2", "httpbin", "in-ambient", 3, 120s));
    const auto ready = std::chrono::steady_clock::now();
    REQUIRE_STATUS_OK(
        WaitForAmbientView(bed, "cluster1",
                           {"cluster1 cluster1-network us-east-1/us-east-1a 1 direct",
                            "cluster1 cluster1-network us-east-1/us-east-1b 1 direct",
                            "cluster1 cluster2-network us-west-2/us-west-2a 3 gateway"}));
    WARN("figure: remote scale visible in istiod's view after its pods are ready = "
         << std::chrono::duration<double>(std::chrono::steady_clock::now() - ready).count()
         << " s");

    auto deleted = bed.Kubectl(
        "cluster1", {"delete", "secret", "-n", "istio-system", "globalsvc-remote-cluster2"});
    REQUIRE(deleted.ok());
    REQUIRE_STATUS_OK(
        WaitForAmbientView(bed, "cluster1",
                           {"cluster1 cluster1-network us-east-1/us-east-1a 1 direct",
                            "cluster1 cluster1-network us-east-1/us-east-1b 1 direct"}));
  }

  (void)bed.Scale("cluster2", "httpbin", "in-ambient", 2);
}

}  // namespace
}  // namespace globalsvc::controller::istiod_view
