// The two controllers' objects as upstream istiod reads them: the Services
// and Workloads of istiod's ambient index (what ztunnel receives), on a test
// bed that runs one istiod per cluster (scripts/testbed up --istio).

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "controller/controller.h"
#include "lib/observability/logging.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/support/ambient_view.h"
#include "test/support/status_checks.h"
#include "test/support/testbed.h"

namespace globalsvc::controller {
namespace {

using testsupport::AmbientView;
using testsupport::TestBed;
using testsupport::WaitFor;
using namespace std::chrono_literals;

constexpr const char* kHost = "in-ambient.httpbin.mesh.internal";

// A global service in a namespace that only cluster2 has.
constexpr const char* kRemoteOnlyEcho = R"(apiVersion: v1
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

// The inline shape, which the first case checks istiod's reading of; the
// cases of the default shape set it themselves.
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

// Waits until the controller has reconciled once and handed every status on.
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

// Waits until istiod of `cluster` hands ztunnel this load balancing for the
// guide's service ("MODE preferences").
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

// Waits until istiod of `cluster` has the service `host` with a VIP, carried
// by exactly the workloads `want` (WorkloadLines).
Status WaitForAmbientView(const TestBed& bed, const std::string& cluster,
                          const std::vector<std::string>& want,
                          std::chrono::milliseconds timeout = 60s, const char* host = kHost) {
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

TEST_CASE("istiod of each cluster sees its pods and the other cluster behind its gateway",
          "[controller][istiod]") {
  obs::ConfigureLogging(obs::LogFormat::kText, spdlog::level::warn);
  auto shared = TestBed::Shared(2);
  REQUIRE(shared.ok());
  TestBed& bed = **shared;
  // Fails, never skips, on a test bed without istiod.
  REQUIRE_STATUS_OK(AmbientView::Read(bed, "cluster1"));
  REQUIRE_STATUS_OK(testbed::PrepareGuideApp(bed));
  for (const char* cluster : {"cluster1", "cluster2"}) {
    REQUIRE(
        bed.Kubectl(cluster, {"apply", "-f", std::string(GLOBALSVC_SOURCE_DIR) + "/crds"}).ok());
  }
  REQUIRE(bed.Apply("cluster1", testbed::RemoteSecretYaml(bed, "cluster2")).ok());
  REQUIRE(bed.Apply("cluster2", testbed::RemoteSecretYaml(bed, "cluster1")).ok());
  auto c1 = std::make_unique<Controller>(OptionsFor(bed, "cluster1"));
  auto c2 = std::make_unique<Controller>(OptionsFor(bed, "cluster2"));
  REQUIRE(c1->Start().ok());
  REQUIRE(c2->Start().ok());

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
    c1->Stop();
    c1 = std::make_unique<Controller>(OptionsFor(bed, "cluster1"));
    REQUIRE(c1->Start().ok());
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

  c1->Stop();
  c2->Stop();
  (void)bed.Scale("cluster2", "httpbin", "in-ambient", 2);
  for (const auto& [cluster, remote] : std::vector<std::pair<std::string, std::string>>{
           {"cluster1", "cluster2"}, {"cluster2", "cluster1"}}) {
    (void)bed.Kubectl(cluster, {"delete", "secret", "-n", "istio-system",
                                "globalsvc-remote-" + remote, "--ignore-not-found"});
  }
}

// The pods of in-ambient in `cluster` as IdentityLines shows them.
Result<std::vector<std::string>> GuidePodLines(const TestBed& bed, const std::string& cluster,
                                               const std::string& network) {
  auto pods = bed.Pods(cluster, "httpbin", "app=in-ambient");
  if (!pods.ok()) return pods.error();
  std::vector<std::string> lines;
  for (const auto& pod : *pods)
    lines.push_back("httpbin in-ambient " + network + " " + pod.locality + " 1 " + pod.ip);
  return lines;
}

// Waits until istiod of `cluster` shows `host` carried by exactly `want`
// (IdentityLines).
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

// Endpoint groups, best first, each "address locality" sorted: how Envoy
// ranks by priority and explain ranks by group.
using RankedGroups = std::vector<std::vector<std::string>>;

// What istiod hands the waypoint pod `waypoint` of `cluster` for `host`:port
// (its EDS, through the xDS client), grouped by priority.
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

// What `globalsvc explain --l7` says, read live, from the waypoint's zone.
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

// Removes what the WorkloadEntry shape wrote, so that later cases start from
// the inline shape alone.
void RemoveShapeObjects(const TestBed& bed,
                        const std::vector<std::string>& clusters = {"cluster1", "cluster2"}) {
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

TEST_CASE(
    "--object-shape workload-entries: istiod sees the pods as themselves and the other cluster "
    "behind its resolved gateway, and the Kubernetes Service stays local",
    "[controller][istiod]") {
  obs::ConfigureLogging(obs::LogFormat::kText, spdlog::level::warn);
  auto shared = TestBed::Shared(2);
  REQUIRE(shared.ok());
  TestBed& bed = **shared;
  REQUIRE_STATUS_OK(AmbientView::Read(bed, "cluster1"));
  REQUIRE_STATUS_OK(testbed::PrepareGuideApp(bed));
  for (const char* cluster : {"cluster1", "cluster2"}) {
    REQUIRE(
        bed.Kubectl(cluster, {"apply", "-f", std::string(GLOBALSVC_SOURCE_DIR) + "/crds"}).ok());
  }
  REQUIRE(bed.Apply("cluster1", testbed::RemoteSecretYaml(bed, "cluster2")).ok());
  REQUIRE(bed.Apply("cluster2", testbed::RemoteSecretYaml(bed, "cluster1")).ok());
  auto shaped = [&](const std::string& cluster) {
    ControllerOptions options = OptionsFor(bed, cluster);
    options.object_shape = ObjectShape::kWorkloadEntries;
    return options;
  };
  auto c1 = std::make_unique<Controller>(shaped("cluster1"));
  auto c2 = std::make_unique<Controller>(shaped("cluster2"));
  REQUIRE(c1->Start().ok());
  REQUIRE(c2->Start().ok());

  auto local1 = GuidePodLines(bed, "cluster1", "cluster1-network");
  auto local2 = GuidePodLines(bed, "cluster2", "cluster2-network");
  REQUIRE(local1.ok());
  REQUIRE(local2.ok());
  REQUIRE(local1->size() == 2);
  std::vector<std::string> global1 = *local1;
  global1.push_back("httpbin  cluster2-network us-west-2/us-west-2a 2 gateway");
  std::vector<std::string> global2 = *local2;
  global2.push_back("httpbin  cluster1-network us-east-1/us-east-1a 2 gateway");
  // Both directions: each cluster's pods with their own identity and node
  // locality, the other cluster behind its gateway with a resolved network
  // gateway; the cluster-local name keeps exactly the local pods.
  REQUIRE_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, global1));
  REQUIRE_STATUS_OK(WaitForIdentities(bed, "cluster2", kHost, global2));
  CHECK_STATUS_OK(
      WaitForIdentities(bed, "cluster1", "in-ambient.httpbin.svc.cluster.local", *local1));
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
    c1->Stop();
    c1 = std::make_unique<Controller>(shaped("cluster1"));
    REQUIRE(c1->Start().ok());
    REQUIRE_STATUS_OK(WaitForIdle(*c1));
    CHECK(Writes(*c1) == 0);
    CHECK(testbed::MetricValue(c1->registry().Render(),
                               "globalsvc_writes_total{kind=\"delete\"}") == 0);

    // A remote without ready endpoints has no WorkloadEntry at all (weight 0
    // would read as capacity 1).
    REQUIRE_STATUS_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 0));
    REQUIRE_STATUS_OK(bed.WaitForReadyReplicas("cluster2", "httpbin", "in-ambient", 0, 120s));
    REQUIRE_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, *local1));
    std::this_thread::sleep_for(2s);
    // The one gateway WorkloadEntry is deleted; the pods may stop one at a
    // time, which is one weight change before it (2, 1, none).
    CHECK(testbed::MetricValue(c1->registry().Render(),
                               "globalsvc_writes_total{kind=\"delete\"}") == 1);
    CHECK(Writes(*c1) <= 1);
    REQUIRE_STATUS_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 2));
    REQUIRE_STATUS_OK(bed.WaitForReadyReplicas("cluster2", "httpbin", "in-ambient", 2, 120s));
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, global1));
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
    std::vector<std::string> want = *local1;
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
    std::vector<std::string> want = *local1;
    want.push_back("httpbin  cluster2-network us-west-2/us-west-2a 1 gateway");
    want.push_back("httpbin  cluster2-network us-west-2/us-west-2b 1 gateway");
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, want));
    (void)bed.Delete("cluster2", second_gateway);
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, global1));
  }

  SECTION("the guide's step 5: the namespace's waypoint carries the global service") {
    const std::string waypoint = R"(apiVersion: gateway.networking.k8s.io/v1
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
    for (const char* cluster : {"cluster1", "cluster2"}) {
      REQUIRE_STATUS_OK(bed.Apply(cluster, waypoint));
      REQUIRE(bed.Kubectl(cluster, {"label", "--overwrite", "namespace", "httpbin",
                                    "istio.io/use-waypoint=httpbin-waypoint"})
                  .ok());
    }
    // istiod's gateway controller deploys the waypoint (kwok runs its pod),
    // and hands ztunnel the global service with that waypoint and its
    // identity among the SANs: the waypoint, here or behind the other
    // cluster's gateway, terminates the connection (istio/istio#61609).
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

    // L7: what istiod hands the waypoint (EDS priorities, read by an xDS
    // client connected as the waypoint pod) is what explain --l7 ranks,
    // under the guide's DestinationRule with [zone, region] and [region,
    // zone]. Neither holds an endpoint of cluster2: upstream istiod gives a
    // waypoint none on another network.
    auto waypoints =
        bed.Pods("cluster1", "httpbin", "gateway.networking.k8s.io/gateway-name=httpbin-waypoint");
    REQUIRE(waypoints.ok());
    REQUIRE(waypoints->size() == 1);
    const testsupport::PlacedPod waypoint_pod = waypoints->front();
    auto local = GuidePodLines(bed, "cluster1", "cluster1-network");
    REQUIRE(local.ok());
    for (const char* order : {"[topology.kubernetes.io/zone, topology.kubernetes.io/region]",
                              "[topology.kubernetes.io/region, topology.kubernetes.io/zone]"}) {
      INFO(order);
      REQUIRE_STATUS_OK(bed.Apply("cluster1", std::string(R"(apiVersion: networking.istio.io/v1
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
        failoverPriority: )") + order + R"(
      simple: ROUND_ROBIN
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 3m
)"));
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
      CHECK(endpoints == local->size());
    }
    (void)bed.Kubectl("cluster1", {"delete", "destinationrule", "-n", "httpbin",
                                   "in-ambient-failover", "--ignore-not-found"});

    // The Service's own label instead of its Namespace's: istiod reads it
    // from our ServiceEntry, which carries it over.
    REQUIRE(bed.Kubectl("cluster1", {"label", "--overwrite", "service", "in-ambient", "-n",
                                     "httpbin", "istio.io/use-waypoint=httpbin-waypoint"})
                .ok());
    REQUIRE(
        bed.Kubectl("cluster1", {"label", "namespace", "httpbin", "istio.io/use-waypoint-"}).ok());
    CHECK_STATUS_OK(WaitFor(
        "the Service's own waypoint carries the global service", 60s, [&](std::string* why) {
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
    (void)bed.Kubectl(
        "cluster1", {"label", "service", "in-ambient", "-n", "httpbin", "istio.io/use-waypoint-"});
    for (const char* cluster : {"cluster1", "cluster2"}) {
      (void)bed.Kubectl(cluster, {"label", "namespace", "httpbin", "istio.io/use-waypoint-"});
      (void)bed.Delete(cluster, waypoint);
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
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", local_host, global1));
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, global1));
    // cluster2's Service says nothing, so cluster1's label decides there too.
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster2", local_host, global2));
    // An explicit false in cluster2 keeps cluster2's Service its own.
    REQUIRE(bed.Kubectl("cluster2", {"label", "--overwrite", "service", "in-ambient", "-n",
                                     "httpbin", "solo.io/service-takeover=false"})
                .ok());
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster2", local_host, *local2));
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", local_host, global1));
    // Without the label, cluster1's Service is local again.
    REQUIRE(bed.Kubectl("cluster1", {"label", "service", "in-ambient", "-n", "httpbin",
                                     "solo.io/service-takeover-"})
                .ok());
    REQUIRE(bed.Kubectl("cluster2", {"label", "service", "in-ambient", "-n", "httpbin",
                                     "solo.io/service-takeover-"})
                .ok());
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", local_host, *local1));
    CHECK_STATUS_OK(WaitForIdentities(bed, "cluster1", kHost, global1));
    auto joining = bed.Kubectl("cluster1", {"get", "workloadentries.networking.istio.io", "-n",
                                            "httpbin", "-l", "app=in-ambient", "-o", "name"});
    CHECK(joining.ok());
    CHECK(joining.out.empty());  // the selector's labels are gone with takeover
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

  c1->Stop();
  c2->Stop();
  RemoveShapeObjects(bed);
  for (const auto& [cluster, remote] : std::vector<std::pair<std::string, std::string>>{
           {"cluster1", "cluster2"}, {"cluster2", "cluster1"}}) {
    (void)bed.Kubectl(cluster, {"delete", "secret", "-n", "istio-system",
                                "globalsvc-remote-" + remote, "--ignore-not-found"});
  }
}

TEST_CASE(
    "three clusters on three networks: istiod keeps one workload behind each network's "
    "gateway",
    "[controller][istiod]") {
  obs::ConfigureLogging(obs::LogFormat::kText, spdlog::level::warn);
  auto shared = TestBed::Shared(3);
  REQUIRE(shared.ok());
  TestBed& bed = **shared;
  // Fails, never skips, on a test bed of two clusters.
  REQUIRE(bed.clusters().size() >= 3);
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

TEST_CASE(
    "segments acme (cluster1, cluster2) and beta (cluster3): istiod of each cluster shows each "
    "scope's hosts, endpoints and aliases exactly",
    "[controller][istiod]") {
  obs::ConfigureLogging(obs::LogFormat::kText, spdlog::level::warn);
  auto shared = TestBed::Shared(3);
  REQUIRE(shared.ok());
  TestBed& bed = **shared;
  REQUIRE(bed.clusters().size() >= 3);
  REQUIRE_STATUS_OK(AmbientView::Read(bed, "cluster1"));
  REQUIRE_STATUS_OK(testbed::PrepareGuideApp(bed));
  const std::vector<std::string> clusters = {"cluster1", "cluster2", "cluster3"};
  for (const auto& cluster : clusters) {
    REQUIRE(
        bed.Kubectl(cluster, {"apply", "-f", std::string(GLOBALSVC_SOURCE_DIR) + "/crds"}).ok());
    REQUIRE(bed.Kubectl(cluster, {"wait", "--for=condition=Established",
                                  "crd/segments.globalsvc.io", "--timeout=60s"})
                .ok());
    REQUIRE(bed.Apply(cluster, kSegments).ok());
    REQUIRE(bed.Apply(cluster, kScopedServices).ok());
    REQUIRE(bed.Kubectl(cluster, {"label", "--overwrite", "namespace", "istio-system",
                                  std::string(mesh::kSegmentLabel) + "=" +
                                      (cluster == "cluster3" ? "beta" : "acme")})
                .ok());
    for (const auto& remote : clusters) {
      if (remote != cluster)
        REQUIRE(bed.Apply(cluster, testbed::RemoteSecretYaml(bed, remote)).ok());
    }
  }
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
  for (const auto& cluster : clusters) {
    (void)bed.Kubectl(
        cluster, {"label", "namespace", "istio-system", std::string(mesh::kSegmentLabel) + "-"});
    (void)bed.Kubectl(cluster, {"delete", "segments.globalsvc.io", "--all", "-n", "istio-system",
                                "--ignore-not-found"});
    (void)bed.Kubectl(cluster,
                      {"delete", "service", "seg", "loc", "-n", "httpbin", "--ignore-not-found"});
    for (const auto& remote : clusters) {
      if (remote == cluster) continue;
      (void)bed.Kubectl(cluster, {"delete", "secret", "-n", "istio-system",
                                  "globalsvc-remote-" + remote, "--ignore-not-found"});
    }
  }
  RemoveShapeObjects(bed, clusters);
  (void)bed.Kubectl("cluster1", {"label", "service", "in-ambient", "-n", "httpbin", "tier-"});
}

}  // namespace
}  // namespace globalsvc::controller
