// The controller against the real two-cluster test bed: one controller per
// cluster (in this process), remote clusters connected through
// istio/multiCluster Secrets, the guide's sample app, and the exact
// ServiceEntries each cluster must hold as the world changes.

#include "controller/controller.h"

#include <catch2/catch.hpp>
#include <memory>
#include <sstream>

#include "controller/commands.h"
#include "lib/observability/logging.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/support/testbed.h"

namespace globalsvc::controller {
namespace {

using testbed::GetServiceEntry;
using testbed::PrepareGuideApp;
using testbed::RemoteSecretYaml;
using testbed::WaitForEndpoints;
using testsupport::TestBed;
using testsupport::WaitFor;
using namespace std::chrono_literals;

ControllerOptions OptionsFor(const TestBed& bed, const std::string& cluster) {
  ControllerOptions options;
  options.cluster_name = cluster;
  options.kubeconfig = bed.Kubeconfig(cluster).string();
  options.metrics_address = "127.0.0.1:0";
  options.identity = cluster + "-test";
  options.lease_name = "globalsvc-test";
  options.initial_sync_timeout = 30s;
  return options;
}

double MetricValue(Controller& controller, const std::string& series) {
  return testbed::MetricValue(controller.registry().Render(), series);
}

TEST_CASE("Two controllers keep the guide's ServiceEntries exact", "[controller][testbed]") {
  obs::ConfigureLogging(obs::LogFormat::kText, spdlog::level::warn);
  auto shared = TestBed::Shared(2);
  REQUIRE(shared.ok());
  TestBed& bed = **shared;
  auto prepared = PrepareGuideApp(bed);
  INFO((prepared.ok() ? "" : prepared.error().message));
  REQUIRE(prepared.ok());
  for (const char* cluster : {"cluster1", "cluster2"}) {
    REQUIRE(
        bed.Kubectl(cluster, {"apply", "-f", std::string(GLOBALSVC_SOURCE_DIR) + "/crds"}).ok());
  }
  REQUIRE(bed.Apply("cluster1", RemoteSecretYaml(bed, "cluster2")).ok());
  REQUIRE(bed.Apply("cluster2", RemoteSecretYaml(bed, "cluster1")).ok());

  auto c1 = std::make_unique<Controller>(OptionsFor(bed, "cluster1"));
  auto c2 = std::make_unique<Controller>(OptionsFor(bed, "cluster2"));
  REQUIRE(c1->Start().ok());
  REQUIRE(c2->Start().ok());

  const std::vector<std::string> cluster1_view = {
      "cluster1 cluster1-network us-east-1/us-east-1a 0 pod",
      "cluster1 cluster1-network us-east-1/us-east-1b 0 pod",
      "cluster2 cluster2-network us-west-2/us-west-2a 2 gateway",
  };
  const std::vector<std::string> cluster2_view = {
      "cluster1 cluster1-network us-east-1/us-east-1a 2 gateway",
      "cluster2 cluster2-network us-west-2/us-west-2a 0 pod",
      "cluster2 cluster2-network us-west-2/us-west-2b 0 pod",
  };

  SECTION("each cluster holds its own pods and the other cluster behind its gateway") {
    auto ok1 = WaitForEndpoints(bed, "cluster1", cluster1_view);
    INFO((ok1.ok() ? "" : ok1.error().message));
    REQUIRE(ok1.ok());
    auto ok2 = WaitForEndpoints(bed, "cluster2", cluster2_view);
    INFO((ok2.ok() ? "" : ok2.error().message));
    REQUIRE(ok2.ok());
    auto entry = GetServiceEntry(bed, "cluster1", "autogen.httpbin.in-ambient");
    REQUIRE(entry);
    CHECK((*entry)["spec"]["hosts"] == nlohmann::json::array({"in-ambient.httpbin.mesh.internal"}));
    CHECK((*entry)["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "globalsvc");
    CHECK((*entry)["metadata"]["annotations"]["networking.istio.io/traffic-distribution"] ==
          "PreferNetwork");

    // What the controller knows of each cluster, readable with kubectl.
    auto status = WaitFor("RemoteCluster status in cluster1", 60s, [&](std::string* why) {
      auto remote = bed.GetJson(
          "cluster1", {"remoteclusters.globalsvc.solo.io", "-n", "istio-system", "cluster2"});
      auto local = bed.GetJson(
          "cluster1", {"remoteclusters.globalsvc.solo.io", "-n", "istio-system", "cluster1"});
      if (!remote.ok() || !local.ok()) {
        *why = remote.ok() ? local.error().message : remote.error().message;
        return false;
      }
      const auto& r = (*remote)["status"];
      const auto& l = (*local)["status"];
      *why = r.dump() + " " + l.dump();
      return r.value("role", "") == "remote" && r.value("connected", false) &&
             r.value("synced", false) && !r.value("stale", true) &&
             r.value("network", "") == "cluster2-network" && r.value("services", 0) >= 1 &&
             r.value("endpoints", 0) >= 2 &&
             r.value("secret", "") == "istio-remote-secret-cluster2" &&
             l.value("role", "") == "local" && l.value("network", "") == "cluster1-network";
    });
    INFO((status.ok() ? "" : status.error().message));
    CHECK(status.ok());

    // explain reads the same live objects: the local pods rank first, cluster2
    // stays behind its gateway.
    {
      std::ostringstream out, err;
      const std::string kubeconfigs =
          bed.Kubeconfig("cluster1").string() + ":" + bed.Kubeconfig("cluster2").string();
      const int code = cli::RunExplain(
          {"in-ambient.httpbin.mesh.internal", "--from", "cluster1/us-east-1a", "--kubeconfig",
           kubeconfigs, "--context", "cluster1", "--context", "cluster2"},
          {out, err});
      INFO(out.str() << err.str());
      CHECK(code == cli::kExitOk);
      CHECK_THAT(out.str(), Catch::Contains("ServiceEntry:  cluster1: istio-system/"
                                            "autogen.httpbin.in-ambient"));
      CHECK_THAT(out.str(), Catch::Contains("gateway(cluster2)"));
      CHECK_THAT(out.str(), Catch::Contains("us-east-1/us-east-1b"));

      // The client may be named by its pod: its node gives the zone.
      auto pods = bed.GetJson("cluster1", {"pods", "-n", "httpbin", "-l", "app=in-ambient"});
      REQUIRE(pods.ok());
      REQUIRE_FALSE((*pods)["items"].empty());
      const std::string pod = (*pods)["items"][0]["metadata"]["name"];
      std::ostringstream pod_out, pod_err;
      CHECK(cli::RunExplain(
                {"in-ambient.httpbin.mesh.internal", "--from-pod", "httpbin/" + pod, "--kubeconfig",
                 kubeconfigs, "--context", "cluster1", "--context", "cluster2"},
                {pod_out, pod_err}) == cli::kExitOk);
      CHECK_THAT(pod_out.str(), Catch::Contains("From:          cluster1 us-east-1/us-east-1"));
      std::ostringstream missing_out, missing_err;
      CHECK(cli::RunExplain({"in-ambient.httpbin.mesh.internal", "--from-pod", "httpbin/nope",
                             "--kubeconfig", kubeconfigs, "--context", "cluster1"},
                            {missing_out, missing_err}) == cli::kExitFindings);
      CHECK_THAT(missing_err.str(), Catch::Contains("not found"));

      // lint reads the live clusters too: the guide's [zone, region] order is flagged.
      const std::string rule = R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: in-ambient-failover, namespace: httpbin}
spec:
  host: in-ambient.httpbin.mesh.internal
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        enabled: true
        failoverPriority: [topology.kubernetes.io/zone, topology.kubernetes.io/region]
      simple: ROUND_ROBIN
    outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 3m}
)";
      REQUIRE(bed.Apply("cluster1", rule).ok());
      std::ostringstream lint_out, lint_err;
      CHECK(cli::RunLint(
                {"--kubeconfig", kubeconfigs, "--context", "cluster1", "--context", "cluster2"},
                {lint_out, lint_err}) == cli::kExitFindings);
      CHECK_THAT(lint_out.str(), Catch::Contains("FailoverPriorityOrder"));
      REQUIRE(bed.Delete("cluster1", rule).ok());
    }

    // Failover input: cluster2 scaled to zero leaves cluster1 with its own pods only.
    REQUIRE(bed.Scale("cluster2", "httpbin", "in-ambient", 0).ok());
    auto drained = WaitForEndpoints(bed, "cluster1",
                                    {"cluster1 cluster1-network us-east-1/us-east-1a 0 pod",
                                     "cluster1 cluster1-network us-east-1/us-east-1b 0 pod"});
    INFO((drained.ok() ? "" : drained.error().message));
    CHECK(drained.ok());
    REQUIRE(bed.Scale("cluster2", "httpbin", "in-ambient", 2).ok());
    CHECK(WaitForEndpoints(bed, "cluster1", cluster1_view).ok());

    // Annotation changes flow through.
    REQUIRE(
        bed.Kubectl("cluster1", {"annotate", "--overwrite", "service", "in-ambient", "-n",
                                 "httpbin", "networking.istio.io/traffic-distribution=PreferClose"})
            .ok());
    CHECK(WaitFor("PreferClose in cluster1", 60s, [&](std::string*) {
            auto e = GetServiceEntry(bed, "cluster1", "autogen.httpbin.in-ambient");
            return e &&
                   (*e)["metadata"]["annotations"]["networking.istio.io/traffic-distribution"] ==
                       "PreferClose";
          }).ok());

    // A restart with nothing changed writes nothing.
    auto before = GetServiceEntry(bed, "cluster1", "autogen.httpbin.in-ambient");
    REQUIRE(before);
    c1.reset();
    c1 = std::make_unique<Controller>(OptionsFor(bed, "cluster1"));
    REQUIRE(c1->Start().ok());
    REQUIRE(WaitFor("restarted controller reconciled", 60s, [&](std::string* why) {
              const double unchanged =
                  MetricValue(*c1, "globalsvc_reconcile_total{result=\"unchanged\"}");
              *why = "unchanged reconciles: " + std::to_string(unchanged);
              return unchanged >= 1;
            }).ok());
    CHECK(MetricValue(*c1, "globalsvc_writes_total{kind=\"apply\"}") == 0);
    auto after = GetServiceEntry(bed, "cluster1", "autogen.httpbin.in-ambient");
    REQUIRE(after);
    CHECK((*after)["metadata"]["resourceVersion"] == (*before)["metadata"]["resourceVersion"]);

    // Someone deletes the ServiceEntry: it comes back.
    REQUIRE(bed.Kubectl("cluster1", {"delete", "serviceentry", "-n", "istio-system",
                                     "autogen.httpbin.in-ambient"})
                .ok());
    CHECK(WaitForEndpoints(bed, "cluster1", cluster1_view).ok());

    // No longer global anywhere: both ServiceEntries are removed.
    for (const char* cluster : {"cluster1", "cluster2"}) {
      REQUIRE(bed.Kubectl(cluster, {"label", "--overwrite", "service", "in-ambient", "-n",
                                    "httpbin", "solo.io/service-scope=cluster"})
                  .ok());
    }
    for (const char* cluster : {"cluster1", "cluster2"}) {
      CHECK(WaitFor(std::string("ServiceEntry removed from ") + cluster, 60s, [&](std::string*) {
              return !GetServiceEntry(bed, cluster, "autogen.httpbin.in-ambient");
            }).ok());
    }
  }

  SECTION("an object of the same name that globalsvc does not own is never touched") {
    const std::string user_entry = R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: autogen.default.foreign
  namespace: istio-system
spec:
  hosts: [user-owned.example]
  resolution: STATIC
  ports: [{name: http, number: 80, protocol: HTTP}]
)";
    const std::string service = R"(
apiVersion: v1
kind: Service
metadata:
  name: foreign
  namespace: default
  labels: {solo.io/service-scope: global}
spec:
  ports: [{name: http, port: 80}]
)";
    REQUIRE(bed.Apply("cluster1", user_entry).ok());
    REQUIRE(bed.Apply("cluster1", service).ok());
    auto reported = WaitFor("conflict reported", 60s, [&](std::string* why) {
      const double conflicts =
          MetricValue(*c1, "globalsvc_conflicts_total{reason=\"foreign-object\"}");
      *why = "conflicts: " + std::to_string(conflicts);
      return conflicts >= 1;
    });
    INFO((reported.ok() ? "" : reported.error().message));
    CHECK(reported.ok());
    auto event = WaitFor("Warning Event on the Service", 30s, [&](std::string* why) {
      auto events = bed.GetJson("cluster1", {"events.events.k8s.io", "-n", "default",
                                             "--field-selector", "reason=ServiceEntryConflict"});
      *why = events.ok() ? events->dump().substr(0, 300) : events.error().message;
      if (!events.ok()) return false;
      for (const auto& item : (*events)["items"]) {
        if (item["regarding"].value("name", "") == "foreign" &&
            item.value("type", "") == "Warning") {
          return true;
        }
      }
      return false;
    });
    INFO((event.ok() ? "" : event.error().message));
    CHECK(event.ok());
    auto e = GetServiceEntry(bed, "cluster1", "autogen.default.foreign");
    REQUIRE(e);
    CHECK((*e)["spec"]["hosts"] == nlohmann::json::array({"user-owned.example"}));
    CHECK_FALSE((*e)["metadata"]
                    .value("labels", nlohmann::json::object())
                    .contains("app.kubernetes.io/managed-by"));
    // cluster2 has no such object: there the controller writes its own.
    CHECK(WaitFor("cluster2 gets its own entry", 60s, [&](std::string*) {
            auto own = GetServiceEntry(bed, "cluster2", "autogen.default.foreign");
            return own && (*own)["spec"]["hosts"] ==
                              nlohmann::json::array({"foreign.default.mesh.internal"});
          }).ok());
    REQUIRE(bed.Delete("cluster1", service).ok());
    REQUIRE(bed.Delete("cluster1", user_entry).ok());
    CHECK(WaitFor("cluster2 entry removed with the service", 60s, [&](std::string*) {
            return !GetServiceEntry(bed, "cluster2", "autogen.default.foreign");
          }).ok());
  }

  c1.reset();
  c2.reset();
}

}  // namespace
}  // namespace globalsvc::controller
