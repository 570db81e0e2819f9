// Which objects upstream istiod turns into the view a global service needs.
// No controller runs here: each case writes a candidate shape by hand into
// cluster1 of a test bed with istiod (scripts/testbed up --istio) and asserts
// on istiod's ambient index (/debug/ambientz, what ztunnel receives). These
// are the facts lib/mesh/README.md ("The objects istiod needs") builds on; a
// future istiod that reads them differently fails here first.

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/mesh/peer_gateways.h"
#include "test/support/ambient_view.h"
#include "test/support/status_checks.h"
#include "test/support/testbed.h"

namespace globalsvc::testsupport {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCluster = "cluster1";
constexpr const char* kNamespace = "shape";
constexpr const char* kMeshHost = "echo.shape.mesh.internal";
constexpr const char* kKubeHost = "echo.shape.svc.cluster.local";
constexpr const char* kGlobalServiceLabel = "globalsvc.solo.io/global-service";

// A namespace with a two-pod Deployment spread over zones behind Service
// echo, as a user's global service would be.
std::string EchoApp() {
  return R"(apiVersion: v1
kind: Namespace
metadata:
  name: shape
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: echo
  namespace: shape
---
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: shape
spec:
  selector:
    app: echo
  ports:
    - name: http
      port: 8000
      targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
  namespace: shape
spec:
  replicas: 2
  selector:
    matchLabels:
      app: echo
  template:
    metadata:
      labels:
        app: echo
    spec:
      serviceAccountName: echo
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: DoNotSchedule
          labelSelector:
            matchLabels:
              app: echo
      containers:
        - name: echo
          image: docker.io/mccutchen/go-httpbin:v2.18.3
)";
}

using Pod = PlacedPod;

Result<std::vector<Pod>> EchoPods(const TestBed& bed) {
  return bed.Pods(kCluster, kNamespace, "app=echo");
}

Status PrepareEchoApp(const TestBed& bed) {
  if (auto applied = bed.Apply(kCluster, EchoApp()); !applied.ok()) return applied;
  if (auto ready = bed.WaitForReadyReplicas(kCluster, kNamespace, "echo", 2, 120s); !ready.ok())
    return ready;
  auto pods = EchoPods(bed);
  if (!pods.ok()) return pods.error();
  if (pods->size() != 2) return MakeError(ErrorCode::kInternal, "echo pods without an IP");
  return Ok{};
}

// Removes what a case wrote: every ServiceEntry and WorkloadEntry of the
// namespace, its traffic-distribution annotation and the peer Gateways.
void CleanUp(const TestBed& bed) {
  (void)bed.Kubectl(kCluster, {"delete",
                               "serviceentries.networking.istio.io,"
                               "workloadentries.networking.istio.io",
                               "-n", kNamespace, "--all", "--ignore-not-found"});
  (void)bed.Kubectl(
      kCluster, {"annotate", "namespace", kNamespace, "networking.istio.io/traffic-distribution-"});
  (void)bed.Kubectl(kCluster, {"delete", "gateways.gateway.networking.k8s.io", "-n", "istio-system",
                               "-l", "globalsvc-shape-test=true", "--ignore-not-found"});
}

std::string ServiceEntry(const std::string& name, const std::string& host,
                         const std::string& selector_yaml, const std::string& extra_spec = "",
                         const std::string& annotations_yaml = "") {
  return "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: " + name +
         "\n  namespace: shape\n" +
         (annotations_yaml.empty() ? "" : "  annotations:\n" + annotations_yaml) +
         "spec:\n  hosts: [" + host +
         "]\n  location: MESH_INTERNAL\n  resolution: STATIC\n"
         "  ports:\n  - {name: http, number: 8000, protocol: HTTP, targetPort: 8080}\n"
         "  workloadSelector:\n    labels:\n" +
         selector_yaml + extra_spec + "---\n";
}

// An address-less WorkloadEntry: a remote cluster's endpoints in one locality,
// reached through its network's east-west gateway.
std::string GatewayWorkloadEntry(const std::string& name, const std::string& labels_yaml,
                                 const std::string& network, const std::string& locality,
                                 int weight) {
  return "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: " + name +
         "\n  namespace: shape\n  labels:\n" + labels_yaml + "spec:\n  network: " + network +
         "\n  locality: " + locality + "\n  weight: " + std::to_string(weight) +
         "\n  ports: {http: 8080}\n---\n";
}

// A local pod repeated as a WorkloadEntry of its own namespace, with its
// address, service account and node locality.
std::string PodWorkloadEntry(const std::string& name, const Pod& pod) {
  return "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: " + name +
         "\n  namespace: shape\n  labels:\n    " + kGlobalServiceLabel +
         ": echo\nspec:\n  address: " + pod.ip +
         "\n  network: cluster1-network\n  serviceAccount: echo\n  locality: " + pod.locality +
         "\n  ports: {http: 8080}\n---\n";
}

// A peer Gateway of class istio-remote: how istiod learns where a remote
// network's east-west gateway is (status.addresses, copied from spec by
// istiod itself). The address is data only; no traffic is sent.
std::string PeerGateway(const std::string& network, const std::string& address) {
  return "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: "
         "istio-remote-" +
         network +
         "\n  namespace: istio-system\n  labels:\n    globalsvc-shape-test: \"true\"\n"
         "    topology.istio.io/network: " +
         network +
         "\nspec:\n  gatewayClassName: istio-remote\n  addresses:\n  - {type: IPAddress, value: " +
         address +
         "}\n  listeners:\n  - {name: cross-network, port: 15008, protocol: HBONE, tls: {mode: "
         "Passthrough}}\n---\n";
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines)
    out += "\n  " + line;
  return out;
}

// Waits until istiod's view of `host` is exactly `want` (IdentityLines).
Status WaitForLines(const TestBed& bed, const std::string& host, std::vector<std::string> want) {
  std::sort(want.begin(), want.end());
  return WaitFor("istiod shows " + host + Joined(want), 60s, [&](std::string* why) {
    auto view = AmbientView::Read(bed, kCluster);
    if (!view.ok()) {
      *why = view.error().message;
      return false;
    }
    const auto lines = IdentityLines(*view, host);
    *why = "workloads:" + Joined(lines);
    return lines == want;
  });
}

Result<AmbientView> ReadView(const TestBed& bed) {
  return AmbientView::Read(bed, kCluster);
}

// The shared test bed with the echo app ready and nothing left of an earlier
// case; fails, never skips, on a test bed without istiod.
const TestBed& ShapeBed() {
  auto shared = TestBed::Shared(2);
  REQUIRE(shared.ok());
  const TestBed& bed = **shared;
  REQUIRE_STATUS_OK(ReadView(bed));
  REQUIRE_STATUS_OK(PrepareEchoApp(bed));
  CleanUp(bed);
  return bed;
}

TEST_CASE(
    "istiod: the Service's selector on the ServiceEntry leaks WorkloadEntries into the "
    "Kubernetes Service",
    "[istiod][shape]") {
  const TestBed& bed = ShapeBed();
  auto pods = EchoPods(bed);
  REQUIRE(pods.ok());

  // Solo's shape, placed where upstream selects: the ServiceEntry selects the
  // pods by the Service's selector and a remote WorkloadEntry copies it.
  REQUIRE_STATUS_OK(
      bed.Apply(kCluster, ServiceEntry("autogen.echo", kMeshHost, "      app: echo\n") +
                              GatewayWorkloadEntry("autogen.cluster2.echo", "    app: echo\n",
                                                   "cluster2-network", "us-west-2/us-west-2a", 2) +
                              PeerGateway("cluster2-network", "127.0.0.2")));
  const std::vector<std::string> want = {
      "shape echo cluster1-network " + (*pods)[0].locality + " 1 " + (*pods)[0].ip,
      "shape echo cluster1-network " + (*pods)[1].locality + " 1 " + (*pods)[1].ip,
      "shape  cluster2-network us-west-2/us-west-2a 2 gateway"};
  // The pods join the global host as themselves...
  REQUIRE_STATUS_OK(WaitForLines(bed, kMeshHost, want));
  // ...and istiod's default PILOT_ENABLE_K8S_SELECT_WORKLOAD_ENTRIES makes the
  // Kubernetes Service select the remote WorkloadEntry as well: the cluster-
  // local name would silently route to another cluster.
  REQUIRE_STATUS_OK(WaitForLines(bed, kKubeHost, want));
  CleanUp(bed);
}

TEST_CASE(
    "istiod: a ServiceEntry selecting WorkloadEntries by a label of our own gives the "
    "global service's view, and the Kubernetes Service stays local",
    "[istiod][shape]") {
  const TestBed& bed = ShapeBed();
  auto pods = EchoPods(bed);
  REQUIRE(pods.ok());
  REQUIRE(pods->size() == 2);

  const std::string own_label = std::string("    ") + kGlobalServiceLabel + ": echo\n";
  // Three remote localities on two remote networks: two gateways of cluster2
  // in two zones, one of cluster3. Each is its own WorkloadEntry.
  std::string objects =
      ServiceEntry("autogen.echo", kMeshHost, "  " + own_label,
                   "  subjectAltNames: [spiffe://cluster.local/ns/shape/sa/echo]\n") +
      PodWorkloadEntry("autogen.cluster1.echo.0", (*pods)[0]) +
      PodWorkloadEntry("autogen.cluster1.echo.1", (*pods)[1]) +
      GatewayWorkloadEntry("autogen.cluster2.echo.us-west-2a", own_label, "cluster2-network",
                           "us-west-2/us-west-2a", 2) +
      GatewayWorkloadEntry("autogen.cluster2.echo.us-west-2b", own_label, "cluster2-network",
                           "us-west-2/us-west-2b", 1) +
      GatewayWorkloadEntry("autogen.cluster3.echo.eu-west-1a", own_label, "cluster3-network",
                           "eu-west-1/eu-west-1a", 4) +
      PeerGateway("cluster2-network", "127.0.0.2") + PeerGateway("cluster3-network", "127.0.0.3");
  REQUIRE_STATUS_OK(bed.Apply(kCluster, objects));

  // Local endpoints carry the pods' own identity (namespace shape, service
  // account echo) and node locality; every remote locality keeps its own
  // workload, with its capacity and a resolved network gateway.
  REQUIRE_STATUS_OK(
      WaitForLines(bed, kMeshHost,
                   {"shape  cluster2-network us-west-2/us-west-2a 2 gateway",
                    "shape  cluster2-network us-west-2/us-west-2b 1 gateway",
                    "shape  cluster3-network eu-west-1/eu-west-1a 4 gateway",
                    "shape echo cluster1-network " + (*pods)[0].locality + " 1 " + (*pods)[0].ip,
                    "shape echo cluster1-network " + (*pods)[1].locality + " 1 " + (*pods)[1].ip}));
  // The Kubernetes Service keeps exactly its pods.
  REQUIRE_STATUS_OK(
      WaitForLines(bed, kKubeHost,
                   {"shape echo cluster1-network " + (*pods)[0].locality + " 1 " + (*pods)[0].ip,
                    "shape echo cluster1-network " + (*pods)[1].locality + " 1 " + (*pods)[1].ip}));

  auto view = ReadView(bed);
  REQUIRE(view.ok());
  const AmbientService* service = view->Service(kMeshHost);
  REQUIRE(service != nullptr);
  CHECK_FALSE(service->vips.empty());  // istiod allocates it
  CHECK(service->subject_alt_names ==
        std::vector<std::string>{"spiffe://cluster.local/ns/shape/sa/echo"});
  // The pods' own workloads (kind Pod) carry the same identity, so ztunnel
  // accepts their certificates when it picks the WorkloadEntry's address.
  std::set<std::string> pod_identities;
  for (const auto& w : view->WorkloadsOf(kKubeHost)) {
    CHECK(w.uid.find("/Pod/") != std::string::npos);
    pod_identities.insert(w.namespace_name + "/" + w.service_account);
  }
  CHECK(pod_identities == std::set<std::string>{"shape/echo"});
  CleanUp(bed);
}

TEST_CASE(
    "istiod: a WorkloadEntry of weight 0 still gets capacity 1, so an empty remote "
    "must get no WorkloadEntry",
    "[istiod][shape]") {
  const TestBed& bed = ShapeBed();
  const std::string own_label = std::string("    ") + kGlobalServiceLabel + ": echo\n";
  REQUIRE_STATUS_OK(
      bed.Apply(kCluster, ServiceEntry("autogen.echo", kMeshHost, "  " + own_label) +
                              GatewayWorkloadEntry("autogen.cluster2.echo.us-west-2a", own_label,
                                                   "cluster2-network", "us-west-2/us-west-2a", 0) +
                              PeerGateway("cluster2-network", "127.0.0.2")));
  // Weight 0 is the proto default, so it reads as unset: capacity 1, and
  // ztunnel would send requests to a cluster with no ready endpoint.
  REQUIRE_STATUS_OK(
      WaitForLines(bed, kMeshHost, {"shape  cluster2-network us-west-2/us-west-2a 1 gateway"}));
  CleanUp(bed);
}

TEST_CASE("istiod: the load balancing each traffic-distribution value gives a ServiceEntry",
          "[istiod][shape]") {
  const TestBed& bed = ShapeBed();

  // value → the LoadBalancing istiod hands ztunnel ("MODE preferences").
  const std::vector<std::pair<std::string, std::string>> table = {
      {"PreferClose", "FAILOVER NETWORK,REGION,ZONE"},
      {"PreferSameZone", "FAILOVER NETWORK,REGION,ZONE"},
      {"PreferSameNode", "FAILOVER NETWORK,REGION,ZONE,SUBZONE,NODE"},
      {"PreferNetwork", ""},
      {"PreferRegion", ""},
      {"Any", ""},
      {"", ""},
  };
  std::string objects;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const std::string annotation =
        table[i].first.empty()
            ? ""
            : "    networking.istio.io/traffic-distribution: " + table[i].first + "\n";
    objects +=
        ServiceEntry("td" + std::to_string(i), "td" + std::to_string(i) + ".shape.mesh.internal",
                     std::string("      ") + kGlobalServiceLabel + ": td\n", "", annotation);
  }
  REQUIRE_STATUS_OK(bed.Apply(kCluster, objects));

  std::map<std::string, std::string> got;
  REQUIRE_STATUS_OK(WaitFor("istiod has every td service", 60s, [&](std::string* why) {
    auto view = ReadView(bed);
    if (!view.ok()) {
      *why = view.error().message;
      return false;
    }
    got.clear();
    for (std::size_t i = 0; i < table.size(); ++i) {
      const auto* service = view->Service("td" + std::to_string(i) + ".shape.mesh.internal");
      if (service == nullptr) {
        *why = "no service td" + std::to_string(i);
        return false;
      }
      got[table[i].first] = service->load_balancing;
    }
    return true;
  }));
  for (const auto& [value, want] : table) {
    INFO("traffic distribution '" << value << "'");
    CHECK(got[value] == want);
  }

  // The namespace's annotation applies to a ServiceEntry without one.
  REQUIRE(bed.Kubectl(kCluster, {"annotate", "--overwrite", "namespace", kNamespace,
                                 "networking.istio.io/traffic-distribution=PreferClose"})
              .ok());
  REQUIRE_STATUS_OK(WaitFor("the namespace's PreferClose reaches td6", 60s, [&](std::string* why) {
    auto view = ReadView(bed);
    if (!view.ok()) return false;
    const auto* service = view->Service("td6.shape.mesh.internal");
    *why = service == nullptr ? "no service" : "load balancing '" + service->load_balancing + "'";
    return service != nullptr && service->load_balancing == "FAILOVER NETWORK,REGION,ZONE";
  }));
  // A ServiceEntry's own value, even one istiod does not know, keeps the
  // namespace's out: what globalsvc writes is what applies.
  auto view = ReadView(bed);
  REQUIRE(view.ok());
  const auto* prefer_network = view->Service("td3.shape.mesh.internal");
  REQUIRE(prefer_network != nullptr);
  CHECK(prefer_network->load_balancing.empty());
  CleanUp(bed);
}

// Dumps one cluster as a user would for `globalsvc plan -f`.
Status DumpCluster(const TestBed& bed, const std::string& cluster,
                   const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir / cluster);
  const std::vector<std::pair<std::string, std::vector<std::string>>> dumps = {
      {"objects.yaml", {"get", "ns,svc,endpointslices,nodes,pods", "-A", "-o", "yaml"}},
      {"gateways.yaml", {"get", "deploy", "-n", "istio-system", "-o", "yaml"}}};
  for (const auto& [file, args] : dumps) {
    const auto got = bed.Kubectl(cluster, args);
    if (!got.ok()) return MakeError(ErrorCode::kInternal, "kubectl " + args[1] + ": " + got.err);
    std::ofstream(dir / cluster / file, std::ios::binary) << got.out;
  }
  return Ok{};
}

// Waits until the EndpointSlices of echo in `cluster` list `ready` ready
// endpoints (pods are Ready before the slice controller catches up).
Status WaitForReadyEndpoints(const TestBed& bed, const std::string& cluster, std::size_t ready) {
  return WaitFor("echo has " + std::to_string(ready) + " ready endpoints in " + cluster, 60s,
                 [&](std::string* why) {
                   auto slices = bed.GetJson(cluster, {"endpointslices", "-n", kNamespace, "-l",
                                                       "kubernetes.io/service-name=echo"});
                   if (!slices.ok()) return false;
                   std::size_t count = 0;
                   for (const auto& slice : slices->value("items", nlohmann::json::array())) {
                     for (const auto& e : slice.value("endpoints", nlohmann::json::array())) {
                       if (e.value("conditions", nlohmann::json::object()).value("ready", false))
                         ++count;
                     }
                   }
                   *why = std::to_string(count) + " ready";
                   return count == ready;
                 });
}

TEST_CASE(
    "istiod: what plan prints for the WorkloadEntry shape, from two live clusters, gives "
    "the global service's view",
    "[istiod][shape]") {
  const TestBed& bed = ShapeBed();
  const std::string remote = "cluster2";
  auto pods = EchoPods(bed);
  REQUIRE(pods.ok());
  REQUIRE(pods->size() == 2);
  // The same app in cluster2, global in both clusters.
  REQUIRE_STATUS_OK(bed.Apply(remote, EchoApp()));
  REQUIRE_STATUS_OK(bed.WaitForReadyReplicas(remote, kNamespace, "echo", 2, 120s));
  for (const std::string& cluster : {std::string(kCluster), remote}) {
    REQUIRE(bed.Kubectl(cluster, {"label", "--overwrite", "service", "echo", "-n", kNamespace,
                                  "solo.io/service-scope=global"})
                .ok());
    REQUIRE_STATUS_OK(WaitForReadyEndpoints(bed, cluster, 2));
  }
  auto gateway = bed.GetJson(remote, {"deployment", "istio-eastwestgateway", "-n", "istio-system"});
  REQUIRE(gateway.ok());
  const auto gateway_labels = (*gateway)["metadata"].value("labels", nlohmann::json::object());
  const std::string gateway_locality = gateway_labels.value("topology.kubernetes.io/region", "") +
                                       "/" +
                                       gateway_labels.value("topology.kubernetes.io/zone", "");

  const auto dir = std::filesystem::temp_directory_path() /
                   ("globalsvc-shape-snapshot-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  REQUIRE_STATUS_OK(DumpCluster(bed, kCluster, dir));
  REQUIRE_STATUS_OK(DumpCluster(bed, remote, dir));
  const auto plan = RunCommand({GLOBALSVC_BINARY, "plan", "-f", dir.string(), "--cluster", kCluster,
                                "--shape", "workload-entries"});
  std::filesystem::remove_all(dir);
  INFO(plan.err);
  REQUIRE(plan.ok());
  REQUIRE_STATUS_OK(bed.Apply(kCluster, plan.out));

  // The local pods as themselves; cluster2's two endpoints as one workload
  // behind its east-west gateway, at the gateway's locality.
  const std::vector<std::string> local = {
      "shape echo cluster1-network " + (*pods)[0].locality + " 1 " + (*pods)[0].ip,
      "shape echo cluster1-network " + (*pods)[1].locality + " 1 " + (*pods)[1].ip};
  std::vector<std::string> global = local;
  global.push_back("shape  cluster2-network " + gateway_locality + " 2 gateway");
  REQUIRE_STATUS_OK(WaitForLines(bed, kMeshHost, global));
  REQUIRE_STATUS_OK(WaitForLines(bed, kKubeHost, local));
  auto view = ReadView(bed);
  REQUIRE(view.ok());
  const AmbientService* service = view->Service(kMeshHost);
  REQUIRE(service != nullptr);
  CHECK_FALSE(service->vips.empty());
  CHECK(service->subject_alt_names ==
        std::vector<std::string>{"spiffe://cluster.local/ns/shape/sa/echo"});
  // istiod took the peer Gateway's address (cluster2's gateway Service).
  REQUIRE_STATUS_OK(WaitFor("the peer Gateway has its address in status", 60s, [&](std::string*) {
    auto peer = bed.GetJson(kCluster, {"gateways.gateway.networking.k8s.io",
                                       "globalsvc-remote-cluster2-network", "-n", "istio-system"});
    if (!peer.ok()) return false;
    const auto addresses =
        peer->value("status", nlohmann::json::object()).value("addresses", nlohmann::json::array());
    return !addresses.empty() && addresses[0].value("value", "") == "192.0.2.2";
  }));

  CleanUp(bed);
  (void)bed.Kubectl(kCluster, {"delete", "gateways.gateway.networking.k8s.io",
                               "globalsvc-remote-cluster2-network", "-n", "istio-system"});
  (void)bed.Kubectl(kCluster,
                    {"label", "service", "echo", "-n", kNamespace, "solo.io/service-scope-"});
  (void)bed.Kubectl(remote, {"delete", "namespace", kNamespace, "--wait=false"});
}

// istioctl (built with istiod by the test bed) validates what `globalsvc
// plan` prints for the guide's fixtures, offline, as a user would before
// applying it.
TEST_CASE("istioctl validate accepts every object plan prints for the guide",
          "[istiod][validate]") {
  auto shared = TestBed::Shared(2);
  REQUIRE(shared.ok());
  const TestBed& bed = **shared;
  const std::string istioctl = (bed.bin_dir() / "istioctl").string();
  for (const auto& [cluster, shape] :
       std::vector<std::pair<std::string, std::string>>{{"cluster1", "inline"},
                                                        {"cluster2", "inline"},
                                                        {"cluster1", "workload-entries"},
                                                        {"cluster2", "workload-entries"}}) {
    INFO(cluster << " " << shape);
    const auto plan =
        RunCommand({GLOBALSVC_BINARY, "plan", "-f",
                    std::string(GLOBALSVC_SOURCE_DIR) + "/test/fixtures/guide/snapshot",
                    "--cluster", cluster, "--shape", shape});
    INFO(plan.err);
    REQUIRE(plan.ok());
    REQUIRE(plan.out.find("kind: ServiceEntry") != std::string::npos);
    const auto validated =
        RunCommand({istioctl, "validate", "-f", "-", "--kubeconfig", "/dev/null"},
                   {.stdin_text = plan.out, .env = {}, .timeout = 120s});
    const std::string said = validated.out + validated.err;
    INFO("istioctl validate: " << said);
    CHECK(validated.ok());
    CHECK(said.find("rror") == std::string::npos);
    // Its only warning is by design: a remote network's endpoints have no
    // address, they are reached through that network's east-west gateway.
    std::istringstream lines(said);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("* ") == std::string::npos) continue;
      CHECK(line.find("address is unset with network") != std::string::npos);
    }
  }
}

}  // namespace
}  // namespace globalsvc::testsupport
