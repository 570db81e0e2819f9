// The controller against the real two-cluster test bed: one controller per
// cluster (in this process), remote clusters connected through
// globalsvc.solo.io/remote-cluster Secrets, the guide's sample app, and the exact
// ServiceEntries each cluster must hold as the world changes.

#include "controller/controller.h"

#include <catch2/catch.hpp>
#include <iterator>
#include <memory>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "lib/observability/logging.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/support/status_checks.h"
#include "test/support/testbed.h"

namespace globalsvc::controller {
namespace {

using testbed::GetServiceEntry;
using testbed::kGuideEntry;
using testbed::ManagedServiceEntries;
using testbed::PrepareGuideApp;
using testbed::RemoteSecretYaml;
using testbed::ServiceEntryNamespace;
using testbed::WaitForEndpoints;
using testsupport::TestBed;
using testsupport::WaitFor;
using namespace std::chrono_literals;

ControllerOptions OptionsFor(const TestBed& bed, const std::string& cluster) {
  return testbed::InProcessOptions(bed, cluster, cluster + "-test", "globalsvc-test");
}

double MetricValue(Controller& controller, const std::string& series) {
  return testbed::MetricValue(controller.registry().Render(), series);
}

// The GlobalService status object `name` in the cluster's istio-system.
std::optional<nlohmann::json> GetGlobalService(const TestBed& bed, const std::string& cluster,
                                               const std::string& name) {
  auto got = bed.Kubectl(cluster, {"get", "globalservices.globalsvc.io", "-n", "istio-system", name,
                                   "-o", "json", "--ignore-not-found"});
  if (!got.ok() || got.out.empty()) return std::nullopt;
  return nlohmann::json::parse(got.out);
}

// Waits until the guide service's GlobalService in `cluster` is Synced and
// shows `by_cluster` (and `distribution`, when given).
Status WaitForServiceStatus(const TestBed& bed, const std::string& cluster,
                            const std::string& by_cluster, const std::string& distribution = {}) {
  return WaitFor(
      "GlobalService in " + cluster + " shows " + by_cluster, 60s, [&](std::string* why) {
        auto object = GetGlobalService(bed, cluster, "httpbin.in-ambient");
        if (!object) {
          *why = "no GlobalService httpbin.in-ambient";
          return false;
        }
        const auto& status = (*object)["status"];
        *why = status.dump();
        return status.value("state", "") == "Synced" &&
               status.value("endpointsByCluster", "") == by_cluster &&
               (distribution.empty() || status.value("trafficDistribution", "") == distribution);
      });
}

TEST_CASE("Two controllers keep the guide's ServiceEntries exact", "[controller][testbed]") {
  obs::ConfigureLogging(obs::LogFormat::kText, spdlog::level::warn);
  auto shared = TestBed::Shared(2);
  REQUIRE_STATUS_OK(shared);
  TestBed& bed = **shared;
  auto prepared = PrepareGuideApp(bed);
  INFO((prepared.ok() ? "" : prepared.error().message));
  REQUIRE_STATUS_OK(prepared);
  for (const char* cluster : {"cluster1", "cluster2"}) {
    REQUIRE_COMMAND_OK(
        bed.Kubectl(cluster, {"apply", "-f", std::string(GLOBALSVC_SOURCE_DIR) + "/crds"}));
  }
  REQUIRE_STATUS_OK(bed.Apply("cluster1", RemoteSecretYaml(bed, "cluster2")));
  REQUIRE_STATUS_OK(bed.Apply("cluster2", RemoteSecretYaml(bed, "cluster1")));

  auto c1 = std::make_unique<Controller>(OptionsFor(bed, "cluster1"));
  auto c2 = std::make_unique<Controller>(OptionsFor(bed, "cluster2"));
  REQUIRE_STATUS_OK(c1->Start());
  REQUIRE_STATUS_OK(c2->Start());

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
    REQUIRE_STATUS_OK(ok1);
    auto ok2 = WaitForEndpoints(bed, "cluster2", cluster2_view);
    INFO((ok2.ok() ? "" : ok2.error().message));
    REQUIRE_STATUS_OK(ok2);
    auto entry = GetServiceEntry(bed, "cluster1", "autogen.httpbin.in-ambient");
    REQUIRE(entry);
    CHECK((*entry)["spec"]["hosts"] == nlohmann::json::array({"in-ambient.httpbin.mesh.internal"}));
    CHECK((*entry)["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "globalsvc");
    // The guide's default, written as upstream istiod understands it.
    CHECK((*entry)["metadata"]["annotations"]["networking.istio.io/traffic-distribution"] ==
          "PreferClose");
    CHECK((*entry)["metadata"]["annotations"]["globalsvc.solo.io/requested-traffic-distribution"] ==
          "PreferNetwork");

    // What the controller knows of each cluster, readable with kubectl.
    auto status = WaitFor("RemoteCluster status in cluster1", 60s, [&](std::string* why) {
      auto remote = bed.GetJson("cluster1",
                                {"remoteclusters.globalsvc.io", "-n", "istio-system", "cluster2"});
      auto local = bed.GetJson("cluster1",
                               {"remoteclusters.globalsvc.io", "-n", "istio-system", "cluster1"});
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
             r.value("endpoints", 0) >= 2 && r.value("secret", "") == "globalsvc-remote-cluster2" &&
             l.value("role", "") == "local" && l.value("network", "") == "cluster1-network";
    });
    INFO((status.ok() ? "" : status.error().message));
    CHECK(status.ok());

    // Per global service, readable with kubectl: endpoints by cluster, in both clusters.
    CHECK_STATUS_OK(WaitForServiceStatus(bed, "cluster1", "cluster1=2,cluster2=2"));
    CHECK_STATUS_OK(WaitForServiceStatus(bed, "cluster2", "cluster1=2,cluster2=2"));
    {
      auto object = GetGlobalService(bed, "cluster1", "httpbin.in-ambient");
      REQUIRE(object);
      const auto& s = (*object)["status"];
      CHECK(s["host"] == "in-ambient.httpbin.mesh.internal");
      CHECK(s["serviceEntry"] == "autogen.httpbin.in-ambient");
      CHECK(s["endpoints"] == 4);
      CHECK(s["conflicts"] == 0);
      CHECK(s["trafficDistribution"] == "PreferClose");
      CHECK(s["clusters"][1]["viaGateway"] == true);
      CHECK(s["clusters"][1]["network"] == "cluster2-network");
      CHECK_FALSE(s.value("lastChangeTime", "").empty());
      CHECK((*object)["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "globalsvc");
      CHECK((*object)["metadata"]["labels"]["solo.io/parent-service"] == "in-ambient");
      const auto table = bed.Kubectl("cluster1", {"get", "globalservices", "-n", "istio-system"});
      INFO(table.out << table.err);
      // Columns: NAME HOST CLUSTERS ENDPOINTS CONFLICTS STATE AGE.
      std::istringstream text(table.out);
      std::vector<std::vector<std::string>> rows;
      for (std::string line; std::getline(text, line);) {
        std::istringstream words(line);
        rows.emplace_back(std::istream_iterator<std::string>(words),
                          std::istream_iterator<std::string>());
      }
      REQUIRE_FALSE(rows.empty());
      CHECK(rows[0] == std::vector<std::string>{"NAME", "HOST", "CLUSTERS", "ENDPOINTS",
                                                "CONFLICTS", "STATE", "AGE"});
      bool listed = false;
      for (const auto& row : rows) {
        if (row.empty() || row[0] != "httpbin.in-ambient") continue;
        listed = true;
        REQUIRE(row.size() == 7);
        CHECK(std::vector<std::string>(row.begin() + 1, row.end() - 1) ==
              std::vector<std::string>{"in-ambient.httpbin.mesh.internal", "cluster1=2,cluster2=2",
                                       "4", "0", "Synced"});
      }
      CHECK(listed);
    }

    // A GlobalService someone else deletes or edits is put back at once
    // (it is watched), not at some later relist.
    {
      auto object = GetGlobalService(bed, "cluster1", "httpbin.in-ambient");
      REQUIRE(object);
      const std::string uid = (*object)["metadata"]["uid"];
      REQUIRE_COMMAND_OK(bed.Kubectl("cluster1", {"delete", "globalservices.globalsvc.io", "-n",
                                                  "istio-system", "httpbin.in-ambient"}));
      CHECK_STATUS_OK(WaitFor("GlobalService re-created", 60s, [&](std::string* why) {
        auto again = GetGlobalService(bed, "cluster1", "httpbin.in-ambient");
        *why = again ? again->dump() : "no GlobalService httpbin.in-ambient";
        return again && (*again)["metadata"]["uid"] != uid &&
               (*again)["status"].value("endpoints", 0) == 4;
      }));
      auto edited =
          bed.Kubectl("cluster1", {"patch", "globalservices.globalsvc.io", "-n", "istio-system",
                                   "httpbin.in-ambient", "--subresource=status", "--type=merge",
                                   "-p", R"({"status":{"endpoints":99}})"});
      REQUIRE_COMMAND_OK(edited);
      CHECK_STATUS_OK(WaitFor("GlobalService status repaired", 60s, [&](std::string* why) {
        auto again = GetGlobalService(bed, "cluster1", "httpbin.in-ambient");
        *why = again ? again->dump() : "no GlobalService httpbin.in-ambient";
        return again && (*again)["status"].value("endpoints", 0) == 4;
      }));
    }

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
      // The default shape keeps it in the Service's namespace.
      CHECK_THAT(out.str(), Catch::Contains("ServiceEntry:  cluster1: httpbin/"
                                            "autogen.httpbin.in-ambient"));
      CHECK_THAT(out.str(), Catch::Contains("gateway(cluster2)"));
      CHECK_THAT(out.str(), Catch::Contains("us-east-1/us-east-1b"));

      // The client may be named by its pod: its node gives the zone.
      auto pods = bed.GetJson("cluster1", {"pods", "-n", "httpbin", "-l", "app=in-ambient"});
      REQUIRE_STATUS_OK(pods);
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
      REQUIRE_STATUS_OK(bed.Apply("cluster1", rule));
      std::ostringstream lint_out, lint_err;
      CHECK(cli::RunLint(
                {"--kubeconfig", kubeconfigs, "--context", "cluster1", "--context", "cluster2"},
                {lint_out, lint_err}) == cli::kExitFindings);
      CHECK_THAT(lint_out.str(), Catch::Contains("FailoverPriorityOrder"));
      REQUIRE_STATUS_OK(bed.Delete("cluster1", rule));
    }

    // Annotation changes flow through.
    REQUIRE_COMMAND_OK(bed.Kubectl(
        "cluster1", {"annotate", "--overwrite", "service", "in-ambient", "-n", "httpbin",
                     "networking.istio.io/traffic-distribution=PreferSameNode"}));
    CHECK(WaitFor("PreferSameNode in cluster1", 60s, [&](std::string*) {
            auto e = GetServiceEntry(bed, "cluster1", "autogen.httpbin.in-ambient");
            return e &&
                   (*e)["metadata"]["annotations"]["networking.istio.io/traffic-distribution"] ==
                       "PreferSameNode";
          }).ok());
    CHECK_STATUS_OK(
        WaitForServiceStatus(bed, "cluster1", "cluster1=2,cluster2=2", "PreferSameNode"));

    // Failover input: cluster2 scaled to zero leaves cluster1 with its own pods only.
    REQUIRE_STATUS_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 0));
    auto drained = WaitForEndpoints(bed, "cluster1",
                                    {"cluster1 cluster1-network us-east-1/us-east-1a 0 pod",
                                     "cluster1 cluster1-network us-east-1/us-east-1b 0 pod"});
    INFO((drained.ok() ? "" : drained.error().message));
    CHECK(drained.ok());
    // Still global in cluster2, without a ready endpoint.
    CHECK_STATUS_OK(WaitForServiceStatus(bed, "cluster1", "cluster1=2,cluster2=0"));
    REQUIRE_STATUS_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 2));
    CHECK(WaitForEndpoints(bed, "cluster1", cluster1_view).ok());
    CHECK_STATUS_OK(WaitForServiceStatus(bed, "cluster1", "cluster1=2,cluster2=2"));

    // A restart with nothing changed writes nothing: neither the ServiceEntry
    // nor its GlobalService status. It follows the last change closely.
    // A graceful stop leaves the RemoteCluster status current, though the
    // loop that publishes it every 2 s may not have run since that change.
    c1.reset();
    // Read once the stopped controller can write no more: a status write of
    // the last change (a locality, a count) may still have been on its way.
    auto before = GetServiceEntry(bed, "cluster1", "autogen.httpbin.in-ambient");
    REQUIRE(before);
    auto status_before = GetGlobalService(bed, "cluster1", "httpbin.in-ambient");
    REQUIRE(status_before);
    auto clusters_before =
        bed.GetJson("cluster1", {"remoteclusters.globalsvc.io", "-n", "istio-system"});
    REQUIRE_STATUS_OK(clusters_before);
    {
      // What cluster2 contributes to every ServiceEntry here (other tests'
      // services may share the test bed), each gateway counted by its weight.
      std::int64_t contributed = 0;
      for (const auto& item : ManagedServiceEntries(bed, "cluster1")) {
        for (const auto& e : item["spec"].value("endpoints", nlohmann::json::array())) {
          const auto labels = e.value("labels", nlohmann::json::object());
          if (labels.value("topology.istio.io/cluster", "") == "cluster2") {
            contributed += e.value("weight", 1);
          }
        }
      }
      bool found = false;
      for (const auto& item : (*clusters_before)["items"]) {
        if (item["metadata"]["name"] != "cluster2") continue;
        found = true;
        const auto remote_status = item.value("status", nlohmann::json::object());
        INFO(remote_status.dump());
        CHECK(remote_status.value("endpoints", std::int64_t{-1}) == contributed);
      }
      CHECK(found);
    }
    c1 = std::make_unique<Controller>(OptionsFor(bed, "cluster1"));
    REQUIRE_STATUS_OK(c1->Start());
    REQUIRE(WaitFor("restarted controller reconciled", 60s, [&](std::string* why) {
              const double unchanged =
                  MetricValue(*c1, "globalsvc_reconcile_total{result=\"unchanged\"}");
              *why = "unchanged reconciles: " + std::to_string(unchanged);
              return unchanged >= 1;
            }).ok());
    // Every status the reconciles handed on has been compared (or written).
    CHECK_STATUS_OK(
        WaitFor("restarted controller's status writer idle", 60s, [&](std::string* why) {
          const double pending = MetricValue(*c1, "globalsvc_status_pending");
          *why = "pending status writes: " + std::to_string(pending);
          return pending == 0;
        }));
    CHECK(MetricValue(*c1, "globalsvc_writes_total{kind=\"apply\"}") == 0);
    CHECK(MetricValue(*c1, "globalsvc_writes_total{kind=\"status\"}") == 0);
    // Nor the RemoteCluster status: it is published from the health loop, so
    // wait for that loop to have run with the restarted controller leading.
    std::this_thread::sleep_for(5s);
    {
      auto clusters_after =
          bed.GetJson("cluster1", {"remoteclusters.globalsvc.io", "-n", "istio-system"});
      REQUIRE_STATUS_OK(clusters_after);
      auto statuses = [](const nlohmann::json& list) {
        std::string text;
        for (const auto& item : list["items"])
          text += item.value("status", nlohmann::json::object()).dump() + "\n";
        return text;
      };
      INFO("before the restart:\n"
           << statuses(*clusters_before) << "after:\n"
           << statuses(*clusters_after));
      CHECK(MetricValue(*c1, "globalsvc_writes_total{kind=\"cluster-status\"}") == 0);
    }
    auto after = GetServiceEntry(bed, "cluster1", "autogen.httpbin.in-ambient");
    REQUIRE(after);
    CHECK((*after)["metadata"]["resourceVersion"] == (*before)["metadata"]["resourceVersion"]);
    auto status_after = GetGlobalService(bed, "cluster1", "httpbin.in-ambient");
    REQUIRE(status_after);
    CHECK((*status_after)["metadata"]["resourceVersion"] ==
          (*status_before)["metadata"]["resourceVersion"]);

    // Someone deletes the ServiceEntry: it comes back.
    REQUIRE_COMMAND_OK(bed.Kubectl("cluster1", {"delete", "serviceentry", "-n",
                                                ServiceEntryNamespace(bed, "cluster1", kGuideEntry),
                                                "autogen.httpbin.in-ambient"}));
    CHECK(WaitForEndpoints(bed, "cluster1", cluster1_view).ok());

    // No longer global anywhere: both ServiceEntries are removed.
    for (const char* cluster : {"cluster1", "cluster2"}) {
      REQUIRE_COMMAND_OK(bed.Kubectl(cluster, {"label", "--overwrite", "service", "in-ambient",
                                               "-n", "httpbin", "solo.io/service-scope=cluster"}));
    }
    for (const char* cluster : {"cluster1", "cluster2"}) {
      CHECK(WaitFor(std::string("ServiceEntry removed from ") + cluster, 60s, [&](std::string*) {
              return !GetServiceEntry(bed, cluster, "autogen.httpbin.in-ambient");
            }).ok());
      CHECK(WaitFor(std::string("GlobalService removed from ") + cluster, 60s, [&](std::string*) {
              return !GetGlobalService(bed, cluster, "httpbin.in-ambient");
            }).ok());
    }
  }

  SECTION("an object of the same name that globalsvc does not own is never touched") {
    const std::string user_entry = R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: autogen.default.foreign
  namespace: default
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
    // A GlobalService of that name in cluster2 that globalsvc does not own.
    const std::string user_status = R"(
apiVersion: globalsvc.io/v1alpha1
kind: GlobalService
metadata:
  name: default.foreign
  namespace: istio-system
spec: {}
)";
    REQUIRE_STATUS_OK(bed.Apply("cluster2", user_status));
    auto user_status_before = GetGlobalService(bed, "cluster2", "default.foreign");
    REQUIRE(user_status_before);
    REQUIRE_STATUS_OK(bed.Apply("cluster1", user_entry));
    REQUIRE_STATUS_OK(bed.Apply("cluster1", service));
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
    // The status says why cluster1 does not export it.
    CHECK_STATUS_OK(WaitFor("GlobalService shows the conflict", 60s, [&](std::string* why) {
      auto object = GetGlobalService(bed, "cluster1", "default.foreign");
      *why = object ? (*object)["status"].dump() : "no GlobalService default.foreign";
      return object && (*object)["status"].value("state", "") == "Conflict" &&
             (*object)["status"].value("conflicts", 0) == 1;
    }));
    REQUIRE_STATUS_OK(bed.Delete("cluster1", service));
    REQUIRE_STATUS_OK(bed.Delete("cluster1", user_entry));
    CHECK(WaitFor("cluster2 entry removed with the service", 60s, [&](std::string*) {
            return !GetServiceEntry(bed, "cluster2", "autogen.default.foreign");
          }).ok());
    CHECK(WaitFor("cluster1 GlobalService removed with the service", 60s, [&](std::string*) {
            return !GetGlobalService(bed, "cluster1", "default.foreign");
          }).ok());
    // cluster2's user-owned GlobalService was neither written nor deleted.
    auto user_status_after = GetGlobalService(bed, "cluster2", "default.foreign");
    REQUIRE(user_status_after);
    CHECK((*user_status_after)["metadata"]["resourceVersion"] ==
          (*user_status_before)["metadata"]["resourceVersion"]);
    CHECK_FALSE(user_status_after->contains("status"));
    REQUIRE_STATUS_OK(bed.Delete("cluster2", user_status));
  }

  c1.reset();
  c2.reset();
}

TEST_CASE("Inline shape in a segment: one ServiceEntry of the default name, written once",
          "[controller][testbed][segments]") {
  obs::ConfigureLogging(obs::LogFormat::kText, spdlog::level::warn);
  auto shared = TestBed::Shared(2);
  REQUIRE_STATUS_OK(shared);
  TestBed& bed = **shared;
  REQUIRE_STATUS_OK(PrepareGuideApp(bed));
  REQUIRE_COMMAND_OK(
      bed.Kubectl("cluster1", {"apply", "-f", std::string(GLOBALSVC_SOURCE_DIR) + "/crds"}));
  REQUIRE_COMMAND_OK(bed.Kubectl("cluster1", {"wait", "--for=condition=Established",
                                              "crd/segments.globalsvc.io", "--timeout=60s"}));
  REQUIRE_STATUS_OK(bed.Apply("cluster1", R"(apiVersion: globalsvc.io/v1alpha1
kind: Segment
metadata: {name: acme, namespace: istio-system}
spec: {domain: mesh.acme}
)"));
  REQUIRE_COMMAND_OK(bed.Kubectl("cluster1", {"label", "--overwrite", "namespace", "istio-system",
                                              "admin.solo.io/segment=acme"}));
  ControllerOptions options = OptionsFor(bed, "cluster1");
  options.object_shape = ObjectShape::kInline;
  auto c1 = std::make_unique<Controller>(options);
  REQUIRE_STATUS_OK(c1->Start());
  CHECK_STATUS_OK(WaitFor("the inline entry has the segment's host", 60s, [&](std::string* why) {
    auto entry = bed.GetJson("cluster1", {"serviceentries.networking.istio.io", kGuideEntry, "-n",
                                          "istio-system", "--ignore-not-found"});
    *why = entry.ok() ? entry->dump() : entry.error().message;
    return entry.ok() && (*entry)["spec"]["hosts"][0] == "in-ambient.httpbin.mesh.acme";
  }));
  // Settled: no write follows, and nothing is deleted.
  std::this_thread::sleep_for(3s);
  const double applied = MetricValue(*c1, "globalsvc_writes_total{kind=\"apply\"}");
  std::this_thread::sleep_for(4s);
  CHECK(MetricValue(*c1, "globalsvc_writes_total{kind=\"apply\"}") == applied);
  CHECK(MetricValue(*c1, "globalsvc_writes_total{kind=\"delete\"}") == 0);
  auto listed =
      bed.Kubectl("cluster1", {"get", "serviceentries.networking.istio.io", "-n", "istio-system",
                               "-l", "app.kubernetes.io/managed-by=globalsvc", "-o", "name"});
  // Only this service's entries: other suites' global services (the bench's)
  // may share the test bed.
  std::string guide_entries;
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("httpbin") != std::string::npos) guide_entries += line + "\n";
  }
  CHECK(guide_entries == "serviceentry.networking.istio.io/" + std::string(kGuideEntry) + "\n");

  c1.reset();
  (void)bed.Kubectl("cluster1", {"label", "namespace", "istio-system", "admin.solo.io/segment-"});
  (void)bed.Kubectl("cluster1", {"delete", "segments.globalsvc.io", "acme", "-n", "istio-system",
                                 "--ignore-not-found"});
  (void)bed.Kubectl("cluster1",
                    {"delete", "serviceentries.networking.istio.io", "-n", "istio-system", "-l",
                     "app.kubernetes.io/managed-by=globalsvc", "--ignore-not-found"});
}

}  // namespace
}  // namespace globalsvc::controller
