#include "test/integration/controller/istiod_view_support.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <sstream>

#include "lib/observability/logging.h"
#include "test/integration/controller/controller_test_support.h"

namespace globalsvc::controller::istiod_view {

using testsupport::WaitFor;
using namespace std::chrono_literals;

const char* const kRemoteOnlyEcho = R"(apiVersion: v1
kind: Namespace
metadata:
  name: remote-only
---
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: remote-only
  labels: {solo.io/service-scope: global}
spec:
  selector: {app: echo}
  ports:
  - {name: http, port: 8000, targetPort: 8080}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
  namespace: remote-only
spec:
  replicas: 1
  selector:
    matchLabels: {app: echo}
  template:
    metadata:
      labels: {app: echo}
    spec:
      containers:
      - name: echo
        image: docker.io/mccutchen/go-httpbin:v2.18.3
)";

ControllerOptions OptionsFor(const TestBed& bed, const std::string& cluster) {
  ControllerOptions options =
      testbed::InProcessOptions(bed, cluster, cluster + "-istiod-test", "globalsvc-istiod-test");
  options.object_shape = ObjectShape::kInline;
  return options;
}

double Writes(Controller& controller) {
  return testbed::MetricValue(controller.registry().Render(),
                              "globalsvc_writes_total{kind=\"apply\"}");
}

Status WaitForIdle(Controller& controller) {
  auto reconciled = WaitFor("controller reconciled", 60s, [&](std::string* why) {
    const double unchanged = testbed::MetricValue(
        controller.registry().Render(), "globalsvc_reconcile_total{result=\"unchanged\"}");
    *why = "unchanged reconciles: " + std::to_string(unchanged);
    return unchanged >= 1;
  });
  if (!reconciled.ok()) return reconciled;
  return WaitFor("status writer idle", 60s, [&](std::string* why) {
    const double pending =
        testbed::MetricValue(controller.registry().Render(), "globalsvc_status_pending");
    *why = "pending status writes: " + std::to_string(pending);
    return pending == 0;
  });
}

Status WaitForLoadBalancing(const TestBed& bed, const std::string& cluster,
                            const std::string& want) {
  return WaitFor(cluster + " load balancing " + want, 60s, [&](std::string* why) {
    auto view = AmbientView::Read(bed, cluster);
    if (!view.ok()) return false;
    const auto* service = view->Service(kHost);
    *why = service == nullptr ? "no service" : "'" + service->load_balancing + "'";
    return service != nullptr && service->load_balancing == want;
  });
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines)
    out += "\n  " + line;
  return out;
}

Status WaitForAmbientView(const TestBed& bed, const std::string& cluster,
                          const std::vector<std::string>& want, std::chrono::milliseconds timeout,
                          const char* host) {
  return WaitFor("istiod of " + cluster + " shows" + Joined(want), timeout, [&](std::string* why) {
    auto view = AmbientView::Read(bed, cluster);
    if (!view.ok()) {
      *why = view.error().message;
      return false;
    }
    const auto* service = view->Service(host);
    if (service == nullptr) {
      *why = "no service " + std::string(host);
      return false;
    }
    if (service->vips.empty()) {
      *why = "the service has no VIP";
      return false;
    }
    const auto lines = WorkloadLines(*view, host);
    *why = "workloads:" + Joined(lines);
    return lines == want;
  });
}

ControllerOptions ShapedOptions(const TestBed& bed, const std::string& cluster) {
  ControllerOptions options = OptionsFor(bed, cluster);
  options.object_shape = ObjectShape::kWorkloadEntries;
  return options;
}

Result<std::vector<std::string>> GuidePodLines(const TestBed& bed, const std::string& cluster,
                                               const std::string& network) {
  auto pods = bed.Pods(cluster, "httpbin", "app=in-ambient");
  if (!pods.ok()) return pods.error();
  std::vector<std::string> lines;
  for (const auto& pod : *pods)
    lines.push_back("httpbin in-ambient " + network + " " + pod.locality + " 1 " + pod.ip);
  return lines;
}

Status WaitForIdentities(const TestBed& bed, const std::string& cluster, const std::string& host,
                         std::vector<std::string> want) {
  std::sort(want.begin(), want.end());
  return WaitFor("istiod of " + cluster + " shows " + host + Joined(want), 90s,
                 [&](std::string* why) {
                   auto view = AmbientView::Read(bed, cluster);
                   if (!view.ok()) {
                     *why = view.error().message;
                     return false;
                   }
                   const auto lines = testsupport::IdentityLines(*view, host);
                   *why = "workloads:" + Joined(lines);
                   return lines == want;
                 });
}

Result<RankedGroups> WaypointEds(const TestBed& bed, const std::string& cluster,
                                 const testsupport::PlacedPod& waypoint, const std::string& host) {
#ifndef GLOBALSVC_XDS_CLIENT
  (void)bed, (void)cluster, (void)waypoint, (void)host;
  return MakeError(ErrorCode::kInternal, "built without Go: no xDS client");
#else
  const auto slash = waypoint.locality.find('/');
  const auto got =
      testsupport::RunCommand({GLOBALSVC_XDS_CLIENT,
                               "--addr",
                               "127.0.0.1:" + bed.ClusterValue(cluster, "ISTIOD_GRPC_PORT"),
                               "--pod-ip",
                               waypoint.ip,
                               "--pod",
                               waypoint.name,
                               "--namespace",
                               "httpbin",
                               "--service-account",
                               "httpbin-waypoint",
                               "--cluster-id",
                               cluster,
                               "--network",
                               cluster + "-network",
                               "--region",
                               waypoint.locality.substr(0, slash),
                               "--zone",
                               waypoint.locality.substr(slash + 1),
                               "--host",
                               host,
                               "--port",
                               "8000",
                               "--timeout",
                               "20s"});
  if (!got.ok()) return MakeError(ErrorCode::kUnavailable, "xds-client: " + got.err);
  std::map<int, std::vector<std::string>> by_priority;
  std::istringstream lines(got.out);
  for (std::string line; std::getline(lines, line);) {
    // priority=P locality=L endpoint=ADDRESS:PORT weight=W
    std::map<std::string, std::string> fields;
    std::istringstream words(line);
    for (std::string word; words >> word;) {
      const auto eq = word.find('=');
      if (eq != std::string::npos) fields[word.substr(0, eq)] = word.substr(eq + 1);
    }
    std::string address = fields["endpoint"];
    address = address.substr(0, address.rfind(':'));
    by_priority[std::stoi(fields["priority"])].push_back(address + " " + fields["locality"]);
  }
  RankedGroups groups;
  for (auto& [priority, group] : by_priority) {
    std::sort(group.begin(), group.end());
    groups.push_back(std::move(group));
  }
  return groups;
#endif
}

Result<RankedGroups> ExplainL7(const TestBed& bed, const std::string& cluster,
                               const testsupport::PlacedPod& waypoint, const std::string& host) {
  const auto explained = testsupport::RunCommand(
      {GLOBALSVC_BINARY, "explain", host, "--from", cluster + "/" + waypoint.locality, "--l7",
       "--kubeconfig", bed.Kubeconfig(cluster).string(), "--context", cluster, "-o", "json"});
  if (!explained.ok()) return MakeError(ErrorCode::kInternal, "explain: " + explained.err);
  const auto json = nlohmann::json::parse(explained.out, nullptr, false);
  if (!json.is_object()) return MakeError(ErrorCode::kInternal, "explain: " + explained.out);
  RankedGroups groups;
  for (const auto& group : json.value("groups", nlohmann::json::array())) {
    std::vector<std::string> members;
    for (const auto& endpoint : group["endpoints"]) {
      members.push_back(endpoint.value("endpoint", "") + " " + endpoint.value("locality", ""));
    }
    std::sort(members.begin(), members.end());
    groups.push_back(std::move(members));
  }
  return groups;
}

std::string Describe(const RankedGroups& groups) {
  std::string out;
  for (const auto& group : groups)
    out += "[" + Joined(group) + " ]";
  return out;
}

void RemoveShapeObjects(const TestBed& bed, const std::vector<std::string>& clusters) {
  for (const auto& cluster : clusters) {
    (void)bed.Kubectl(cluster,
                      {"delete",
                       "serviceentries.networking.istio.io,"
                       "workloadentries.networking.istio.io",
                       "-A", "-l", "app.kubernetes.io/managed-by=globalsvc", "--ignore-not-found"});
    (void)bed.Kubectl(cluster,
                      {"delete", "gateways.gateway.networking.k8s.io", "-n", "istio-system", "-l",
                       "app.kubernetes.io/managed-by=globalsvc", "--ignore-not-found"});
  }
}

void ConnectClusters(const TestBed& bed, const std::vector<std::string>& clusters) {
  REQUIRE_STATUS_OK(AmbientView::Read(bed, "cluster1"));  // fails, never skips, without istiod
  REQUIRE_STATUS_OK(testbed::PrepareGuideApp(bed));
  for (const auto& cluster : clusters) {
    REQUIRE(
        bed.Kubectl(cluster, {"apply", "-f", std::string(GLOBALSVC_SOURCE_DIR) + "/crds"}).ok());
    for (const auto& remote : clusters) {
      if (remote != cluster)
        REQUIRE(bed.Apply(cluster, testbed::RemoteSecretYaml(bed, remote)).ok());
    }
  }
}

void DisconnectClusters(const TestBed& bed, const std::vector<std::string>& clusters) {
  for (const auto& cluster : clusters) {
    for (const auto& remote : clusters) {
      if (remote == cluster) continue;
      (void)bed.Kubectl(cluster, {"delete", "secret", "-n", "istio-system",
                                  "globalsvc-remote-" + remote, "--ignore-not-found"});
    }
  }
}

GuidePair::GuidePair(const TestBed& bed, ObjectShape shape) : bed_(bed), shape_(shape) {
  ConnectClusters(bed_, {"cluster1", "cluster2"});
  c1 = std::make_unique<Controller>(Options("cluster1"));
  c2 = std::make_unique<Controller>(Options("cluster2"));
  REQUIRE(c1->Start().ok());
  REQUIRE(c2->Start().ok());
}

GuidePair::~GuidePair() {
  c1->Stop();
  c2->Stop();
  if (shape_ == ObjectShape::kWorkloadEntries) RemoveShapeObjects(bed_);
  DisconnectClusters(bed_, {"cluster1", "cluster2"});
}

ControllerOptions GuidePair::Options(const std::string& cluster) const {
  ControllerOptions options = OptionsFor(bed_, cluster);
  options.object_shape = shape_;
  return options;
}

void GuidePair::RestartCluster1() {
  c1->Stop();
  c1 = std::make_unique<Controller>(Options("cluster1"));
  REQUIRE(c1->Start().ok());
}

GuideLines GuideLinesOf(const TestBed& bed) {
  auto local1 = GuidePodLines(bed, "cluster1", "cluster1-network");
  auto local2 = GuidePodLines(bed, "cluster2", "cluster2-network");
  REQUIRE(local1.ok());
  REQUIRE(local2.ok());
  REQUIRE(local1->size() == 2);
  GuideLines lines{*local1, *local2, *local1, *local2};
  lines.global1.push_back("httpbin  cluster2-network us-west-2/us-west-2a 2 gateway");
  lines.global2.push_back("httpbin  cluster1-network us-east-1/us-east-1a 2 gateway");
  return lines;
}

void WaitForGuideBothWays(const TestBed& bed, const GuideLines& lines) {
  REQUIRE_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, lines.global1));
  REQUIRE_STATUS_OK(WaitForIdentities(bed, "cluster2", kHost, lines.global2));
}

TestBed& SharedBed(int clusters) {
  obs::ConfigureLogging(obs::LogFormat::kText, spdlog::level::warn);
  auto shared = TestBed::Shared(clusters);
  REQUIRE(shared.ok());
  // Fails, never skips, on a test bed with fewer clusters.
  REQUIRE(static_cast<int>((*shared)->clusters().size()) >= clusters);
  return **shared;
}

ShapedGuide::ShapedGuide()
    : bed(SharedBed(2)), pair(bed, ObjectShape::kWorkloadEntries), lines(GuideLinesOf(bed)) {
  WaitForGuideBothWays(bed, lines);
}

}  // namespace globalsvc::controller::istiod_view
