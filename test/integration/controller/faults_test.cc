// The controller under faults and bad input, against the real two-cluster
// test bed. Controllers for cluster1 run as child processes of the globalsvc
// binary (as in production: their own process, metrics over HTTP, logs on
// stderr at debug level), and every log is checked for the credentials the
// test handed out. Each case ends by asserting the exact ServiceEntry that
// cluster1 holds.
//
// Cases: remote Secret added / rotated / deleted; bad remote Secrets
// (malformed YAML, unknown context, wrong CA, 401, 403, dead address) and
// their repair; remote and local kube-apiserver killed and restarted; two
// replicas with leader handover; bad objects (unknown scope, UDP only, a
// name at the length limit).

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "lib/kube/pem.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/integration/controller/fault_support.h"
#include "test/support/testbed.h"

namespace globalsvc::controller {
namespace {

namespace fs = std::filesystem;
using testbed::ApplySecret;
using testbed::ControllerProcess;
using testbed::DeleteSecret;
using testbed::EndpointLines;
using testbed::EntryPoller;
using testbed::Figure;
using testbed::FindMetric;
using testbed::FullView;
using testbed::GetServiceEntry;
using testbed::HasWarningEvent;
using testbed::Joined;
using testbed::JoinLines;
using testbed::Message;
using testbed::ReadFile;
using testbed::RemoteSecretYaml;
using testbed::Seconds;
using testbed::StatusOf;
using testbed::WaitForEndpoints;
using testbed::WaitForMetric;
using testbed::WarningEventReporters;
using testsupport::Component;
using testsupport::TestBed;
using testsupport::WaitFor;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

const std::vector<std::string> kLocalView = testbed::LocalView();

// ---------------------------------------------------------------------------
// Credentials and kubeconfigs.

// A line "  key: value" of a kubeconfig the test bed wrote.
std::string KubeconfigField(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto start = line.find_first_not_of(" -");
    if (start == std::string::npos) continue;
    if (line.compare(start, key.size() + 2, key + ": ") == 0) {
      return line.substr(start + key.size() + 2);
    }
  }
  return {};
}

struct KubeconfigParts {
  std::string server;
  std::string ca_data;  // base64
  std::string user_name = "remote-user";
  std::vector<std::string> user_lines;  // "key: value" under user:
  std::string context = "remote";
  std::string current_context = "remote";
};

std::string MakeKubeconfig(const KubeconfigParts& p) {
  std::string text =
      "apiVersion: v1\nkind: Config\nclusters:\n- name: remote\n  cluster:\n"
      "    server: " +
      p.server + "\n    certificate-authority-data: " + p.ca_data +
      "\nusers:\n- name: " + p.user_name + "\n  user:\n";
  for (const auto& line : p.user_lines)
    text += "    " + line + "\n";
  text += "contexts:\n- name: " + p.context +
          "\n  context:\n    cluster: remote\n    user: " + p.user_name +
          "\ncurrent-context: " + p.current_context + "\n";
  return text;
}

// Read access to what the controller watches in a remote cluster, for the
// ServiceAccount cluster2's rotated Secret uses; a second ServiceAccount has
// no binding at all (403).
constexpr const char* kReaderRbac = R"(
apiVersion: v1
kind: Namespace
metadata:
  name: globalsvc-faults
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: reader
  namespace: globalsvc-faults
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: no-rbac
  namespace: globalsvc-faults
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: globalsvc-faults-reader
rules:
- apiGroups: [""]
  resources: [services, namespaces, nodes]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: globalsvc-faults-reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: globalsvc-faults-reader
subjects:
- kind: ServiceAccount
  name: reader
  namespace: globalsvc-faults
)";

// Everything the cases share: the test bed, the kubeconfigs for cluster2
// (good and bad), a folder for controller logs, and the strings that must
// never appear in a log.
struct World {
  TestBed* bed = nullptr;
  fs::path dir;
  std::string admin;          // cluster2's admin kubeconfig (client certificate)
  std::string admin_renamed;  // the same certificate under another user and context name
  std::string reader;         // a ServiceAccount token with read access
  std::string malformed_yaml;
  std::string missing_context;
  std::string wrong_ca;
  std::string wrong_token;  // 401
  std::string no_rbac;      // 403
  std::string dead_address;
  std::vector<std::string> credentials;  // never in a log
  int controllers = 0;

  ~World() {
    if (!dir.empty() && std::getenv("GLOBALSVC_KEEP_LOGS") == nullptr) {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  }

  // Private key bodies and tokens: a few distinctive pieces of each.
  void AddCredential(const std::string& secret) {
    if (secret.size() < 24) return;
    credentials.push_back(secret.substr(0, 24));
    credentials.push_back(secret.substr(secret.size() / 2, 24));
  }
  void AddPemKey(const std::string& pem) {
    std::istringstream lines(pem);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("-----") == std::string::npos && line.size() >= 24) AddCredential(line);
    }
  }
};

Result<std::string> CreateToken(const TestBed& bed, const std::string& account) {
  auto token = bed.Kubectl(
      "cluster2", {"create", "token", account, "-n", "globalsvc-faults", "--duration", "3600s"});
  if (!token.ok()) return MakeError(ErrorCode::kInternal, "create token: " + token.err);
  std::string text = token.out;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

Status BuildWorld(World& world) {
  auto shared = TestBed::Shared(2);
  if (!shared.ok()) return shared.error();
  world.bed = *shared;
  const TestBed& bed = *world.bed;

  std::string pattern = (fs::temp_directory_path() / "globalsvc-faults-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return MakeError(ErrorCode::kInternal, "mkdtemp");
  world.dir = pattern;

  if (auto rbac = bed.Apply("cluster2", kReaderRbac); !rbac.ok()) return rbac;
  auto reader_token = CreateToken(bed, "reader");
  if (!reader_token.ok()) return reader_token.error();
  auto no_rbac_token = CreateToken(bed, "no-rbac");
  if (!no_rbac_token.ok()) return no_rbac_token.error();
  const std::string bogus_token =
      "globalsvc-faults-bogus-token-" + kube::EncodeBase64(world.dir.string());

  const fs::path ca_key = world.dir / "wrong-ca.key";
  const fs::path ca_cert = world.dir / "wrong-ca.crt";
  auto ca = testsupport::RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                     "-keyout", ca_key.string(), "-out", ca_cert.string(), "-days",
                                     "1", "-subj", "/CN=globalsvc-faults-wrong-ca"});
  if (!ca.ok()) return MakeError(ErrorCode::kInternal, "openssl: " + ca.err);

  world.admin = ReadFile(bed.Kubeconfig("cluster2"));
  KubeconfigParts admin;
  admin.server = KubeconfigField(world.admin, "server");
  admin.ca_data = KubeconfigField(world.admin, "certificate-authority-data");
  const std::string cert_data = KubeconfigField(world.admin, "client-certificate-data");
  const std::string key_data = KubeconfigField(world.admin, "client-key-data");
  if (admin.server.empty() || admin.ca_data.empty() || key_data.empty()) {
    return MakeError(ErrorCode::kInternal, "cluster2's kubeconfig has no server, CA or key");
  }
  admin.user_name = "cluster2-rotated-admin";
  admin.context = admin.current_context = "cluster2-rotated";
  admin.user_lines = {"client-certificate-data: " + cert_data, "client-key-data: " + key_data};
  world.admin_renamed = MakeKubeconfig(admin);

  KubeconfigParts token = admin;
  token.user_name = "globalsvc-reader";
  token.context = token.current_context = "remote";
  token.user_lines = {"token: " + *reader_token};
  world.reader = MakeKubeconfig(token);

  token.user_lines = {"token: " + bogus_token};
  world.wrong_token = MakeKubeconfig(token);
  token.user_lines = {"token: " + *no_rbac_token};
  world.no_rbac = MakeKubeconfig(token);

  KubeconfigParts missing = token;
  missing.user_lines = {"token: " + *reader_token};
  missing.current_context = "no-such-context";
  world.missing_context = MakeKubeconfig(missing);

  KubeconfigParts wrong_ca = admin;
  wrong_ca.ca_data = kube::EncodeBase64(ReadFile(ca_cert));
  world.wrong_ca = MakeKubeconfig(wrong_ca);

  KubeconfigParts dead = admin;
  dead.server = "https://127.0.0.1:1";
  world.dead_address = MakeKubeconfig(dead);

  // Cut off mid-document: an unclosed flow sequence, with a token inside.
  world.malformed_yaml =
      "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: " + bogus_token +
      "\nclusters: [ {name: remote, cluster: {server: " + admin.server + "}\n";

  for (const char* cluster : {"cluster1", "cluster2"}) {
    world.AddPemKey(ReadFile(bed.state_dir() / cluster / "pki" / "admin.key"));
    world.AddCredential(KubeconfigField(ReadFile(bed.Kubeconfig(cluster)), "client-key-data"));
  }
  for (const auto& secret : {*reader_token, *no_rbac_token, bogus_token})
    world.AddCredential(secret);
  return Ok{};
}

World& GetWorld() {
  static World world;
  static const Status built = BuildWorld(world);
  INFO(Message(built));
  REQUIRE(built.ok());
  return world;
}

// ---------------------------------------------------------------------------
// A controller for cluster1 as a child process, its log in the world's folder.

Result<std::unique_ptr<ControllerProcess>> StartController(World& world,
                                                           const std::string& identity,
                                                           const std::string& lease) {
  testbed::ControllerProcessOptions options;
  options.log_path = world.dir / (std::to_string(++world.controllers) + "-" + identity + ".log");
  options.kubeconfig = world.bed->Kubeconfig("cluster1");
  options.identity = identity;
  options.lease = lease;
  return ControllerProcess::Start(options);
}

// Checks that the controller's log never held a credential.
void CheckLog(const World& world, const ControllerProcess& process) {
  const std::string log = process.Log();
  CHECK_FALSE(log.empty());
  for (std::size_t i = 0; i < world.credentials.size(); ++i) {
    INFO("credential piece #" << i << " found in the log of " << process.identity());
    CHECK(log.find(world.credentials[i]) == std::string::npos);
  }
}

// Stops the controller (it must exit cleanly on SIGTERM) and checks its log.
void StopAndCheckLog(const World& world, ControllerProcess& process) {
  CHECK(process.Terminate());
  CheckLog(world, process);
}

// ---------------------------------------------------------------------------
// The world each case starts from.

// The guide's app in both clusters and no remote Secret in cluster1.
void StartClean(const World& world) {
  testbed::StartClean(*world.bed);
}

// An EntryPoller check: the entry holds cluster2's gateway endpoint.
std::string Cluster2BehindGateway(const nlohmann::json* entry) {
  if (!entry) return "no ServiceEntry";
  for (const auto& line : EndpointLines(*entry)) {
    if (line.starts_with("cluster2 ") && line.ends_with(" gateway")) return "";
  }
  return "no cluster2 gateway endpoint: " + JoinLines(EndpointLines(*entry));
}

// ---------------------------------------------------------------------------

TEST_CASE("A remote Secret added, rotated and deleted at run time",
          "[controller][faults][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(world);
  auto started = StartController(world, "faults-lifecycle", "globalsvc-faults-lifecycle");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));

  // Added: cluster2 appears behind its gateway.
  REQUIRE_OK(ApplySecret(bed, "faults-remote", world.admin));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));

  // Rotated twice while the ServiceEntry is polled: cluster2's gateway
  // endpoint must be there at every poll.
  EntryPoller poller(bed, Cluster2BehindGateway);
  const auto rotate = [&](const std::string& kubeconfig, int replicas) {
    const int before = controller.CountInLog("remote cluster reconnected cluster=cluster2");
    REQUIRE_OK(ApplySecret(bed, "faults-remote", kubeconfig));
    REQUIRE_OK(WaitFor("reconnected with the rotated Secret", 30s, [&](std::string* why) {
      *why = controller.Tail();
      return controller.CountInLog("remote cluster reconnected cluster=cluster2") > before;
    }));
    // Changes in cluster2 flow through the new connection.
    REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", replicas));
    REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(replicas)));
    REQUIRE_OK(WaitForMetric(controller, "cluster2 connected", [](const ControllerProcess& c) {
      return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 1.0;
    }));
  };
  // Same certificate, another user and context name.
  rotate(world.admin_renamed, 3);
  // A ServiceAccount token with read access only.
  rotate(world.reader, 2);
  CHECK_OK(poller.StopAfter(5));
  INFO("misses:\n" << Joined(poller.misses()));
  CHECK(poller.misses().empty());
  CHECK(controller.MetricOr0("globalsvc_remote_secret_errors_total") == 0);

  // Deleted: cluster2's endpoints leave.
  REQUIRE_OK(DeleteSecret(bed, "faults-remote"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
  StopAndCheckLog(world, controller);
}

TEST_CASE(
    "A Secret with the legacy istio/multiCluster label connects with a warning until relabelled",
    "[controller][faults][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(world);
  auto started = StartController(world, "faults-legacy-label", "globalsvc-faults-legacy");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));

  const std::string secret = "faults-legacy";
  REQUIRE_OK(bed.Apply("cluster1", testbed::RemoteSecretYaml(secret, "cluster2", world.admin,
                                                             "istio/multiCluster")));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  CHECK_OK(WaitForMetric(controller, "legacy label counted", [&](const ControllerProcess& c) {
    return c.MetricOr0("globalsvc_remote_secret_errors_total",
                       {{"secret", secret}, {"reason", "legacy-label"}}) >= 1;
  }));
  CHECK_OK(WaitFor("Warning Event RemoteClusterSecret", 30s, [&](std::string*) {
    return HasWarningEvent(bed, "cluster1", "istio-system", "Secret", secret,
                           "RemoteClusterSecret");
  }));

  // The migration the warning asks for, while the entry is polled: cluster2
  // stays connected throughout, and the warning stops.
  EntryPoller poller(bed, Cluster2BehindGateway);
  const auto label = [&](const std::string& change) {
    auto labelled = bed.Kubectl(
        "cluster1", {"label", "secret", "-n", "istio-system", secret, change, "--overwrite"});
    INFO(labelled.err);
    REQUIRE(labelled.ok());
  };
  label("globalsvc.solo.io/remote-cluster=true");
  REQUIRE_OK(WaitFor("own label seen", 30s, [&](std::string* why) {
    *why = controller.Tail();
    return controller.CountInLog("which istiod watches too: remove that label") >= 1;
  }));
  label("istio/multiCluster-");
  REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 3));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(3)));
  CHECK_OK(poller.StopAfter(3));
  INFO("misses:\n" << Joined(poller.misses()));
  CHECK(poller.misses().empty());
  CHECK(controller.CountInLog("remote cluster reconnected cluster=cluster2") == 0);
  CHECK(controller.CountInLog("remote cluster disconnected cluster=cluster2") == 0);

  // Any later look at the Secret (here a namespace filter, which reconnects)
  // warns no more.
  const double warnings = controller.MetricOr0("globalsvc_remote_secret_errors_total",
                                               {{"secret", secret}, {"reason", "legacy-label"}});
  auto annotated = bed.Kubectl("cluster1", {"annotate", "secret", "-n", "istio-system", secret,
                                            "globalsvc.solo.io/exclude-namespaces=kube-system"});
  INFO(annotated.err);
  REQUIRE(annotated.ok());
  REQUIRE_OK(WaitFor("reconnected with the namespace filter", 30s, [&](std::string* why) {
    *why = controller.Tail();
    return controller.CountInLog("remote cluster reconnected cluster=cluster2") == 1;
  }));
  CHECK(controller.MetricOr0("globalsvc_remote_secret_errors_total",
                             {{"secret", secret}, {"reason", "legacy-label"}}) == warnings);

  REQUIRE_OK(DeleteSecret(bed, secret));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
  StopAndCheckLog(world, controller);
}

TEST_CASE("Bad remote Secrets are reported, harm nothing, and recover once fixed",
          "[controller][faults][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(world);
  auto started = StartController(world, "faults-bad-secrets", "globalsvc-faults-bad");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));

  struct Bad {
    std::string secret;
    const std::string* kubeconfig;
    bool unusable_config;  // rejected when read, else fails when connecting
  };
  const std::vector<Bad> cases = {
      {"faults-malformed-yaml", &world.malformed_yaml, true},
      {"faults-missing-context", &world.missing_context, true},
      {"faults-wrong-ca", &world.wrong_ca, false},
      {"faults-wrong-token", &world.wrong_token, false},
      {"faults-no-rbac", &world.no_rbac, false},
      {"faults-dead-address", &world.dead_address, false},
  };
  for (const auto& bad : cases) {
    INFO("secret " << bad.secret);
    const double errors_before =
        controller.MetricOr0("globalsvc_watch_errors_total", {{"cluster", "cluster2"}});
    REQUIRE_OK(ApplySecret(bed, bad.secret, *bad.kubeconfig));
    if (bad.unusable_config) {
      CHECK_OK(WaitForMetric(controller, "secret error counted", [&](const ControllerProcess& c) {
        return c.MetricOr0("globalsvc_remote_secret_errors_total",
                           {{"secret", bad.secret}, {"reason", "invalid-kubeconfig"}}) >= 1;
      }));
      CHECK_OK(WaitFor("Warning Event RemoteClusterSecret", 30s, [&](std::string*) {
        return HasWarningEvent(bed, "cluster1", "istio-system", "Secret", bad.secret,
                               "RemoteClusterSecret");
      }));
      CHECK(controller.CountInLog("secret=" + bad.secret) >= 1);
    } else {
      CHECK_OK(WaitForMetric(
          controller, "cluster2 not connected, errors counted", [&](const ControllerProcess& c) {
            return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 0.0 &&
                   c.MetricOr0("globalsvc_watch_errors_total", {{"cluster", "cluster2"}}) >
                       errors_before;
          }));
      CHECK_OK(WaitFor("Warning Event RemoteClusterUnreachable", 30s, [&](std::string*) {
        return HasWarningEvent(bed, "cluster1", "istio-system", "Secret", bad.secret,
                               "RemoteClusterUnreachable");
      }));
    }
    // The controller runs on and cluster1's own endpoints are untouched.
    REQUIRE(controller.Running());
    CHECK(controller.Get("/healthz").has_value());
    auto entry = GetServiceEntry(bed, "cluster1", testbed::kGuideEntry);
    REQUIRE(entry);
    CHECK(EndpointLines(*entry) == kLocalView);

    // Fixing the Secret recovers without a restart.
    REQUIRE_OK(ApplySecret(bed, bad.secret, world.admin));
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
    CHECK_OK(WaitForMetric(controller, "cluster2 connected", [](const ControllerProcess& c) {
      return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 1.0;
    }));
    REQUIRE_OK(DeleteSecret(bed, bad.secret));
    REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
  }
  REQUIRE(controller.Running());
  StopAndCheckLog(world, controller);
}

TEST_CASE("Remote and local kube-apiservers killed and restarted",
          "[controller][faults][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(world);
  auto started = StartController(world, "faults-apiserver", "globalsvc-faults-apiserver");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(ApplySecret(bed, "faults-remote", world.admin));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));

  SECTION("remote") {
    REQUIRE_OK(bed.StopComponent("cluster2", Component::kApiServer, /*kill=*/true));
    // Down: cluster2 is stale and its last known endpoints stay.
    CHECK_OK(WaitForMetric(controller, "cluster2 stale", [](const ControllerProcess& c) {
      return c.Metric("globalsvc_cluster_stale", {{"cluster", "cluster2"}}) == 1.0 &&
             c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 0.0;
    }));
    auto entry = GetServiceEntry(bed, "cluster1", testbed::kGuideEntry);
    REQUIRE(entry);
    CHECK(EndpointLines(*entry) == FullView(2));
    const auto restart = SteadyClock::now();
    REQUIRE_OK(bed.StartComponent("cluster2", Component::kApiServer));
    const auto healthy = SteadyClock::now();
    CHECK_OK(WaitForMetric(
        controller, "cluster2 connected again",
        [](const ControllerProcess& c) {
          return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 1.0 &&
                 c.Metric("globalsvc_cluster_stale", {{"cluster", "cluster2"}}) == 0.0;
        },
        60s));
    const auto reconnected = SteadyClock::now();
    // Changes in cluster2 flow through again. cluster2's own controllers
    // (ReplicaSet, kwok, EndpointSlice) come back from the outage with their
    // own retry backoff: wait for its EndpointSlices first, so a slow
    // cluster2 is told apart from a controller that missed the change.
    REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 0));
    REQUIRE_OK(testbed::SettleGuideApp(bed, "cluster2", 0));
    const auto sliced = SteadyClock::now();
    CHECK_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
    const auto drained = SteadyClock::now();
    REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 2));
    REQUIRE_OK(testbed::SettleGuideApp(bed, "cluster2", 2));
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
    Figure("remote apiserver start (kill to healthy)", Seconds(healthy - restart));
    Figure("remote cluster connected after its apiserver is healthy",
           Seconds(reconnected - healthy));
    Figure("remote scale-to-0 in cluster2's own EndpointSlices after its apiserver is healthy",
           Seconds(sliced - healthy));
    Figure("the same in cluster1's ServiceEntry after cluster2's EndpointSlices show it",
           Seconds(drained - sliced));
  }

  SECTION("local") {
    REQUIRE_OK(bed.StopComponent("cluster1", Component::kApiServer, /*kill=*/true));
    CHECK_OK(WaitForMetric(controller, "cluster1 not connected", [](const ControllerProcess& c) {
      return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster1"}}) == 0.0;
    }));
    REQUIRE_OK(bed.StartComponent("cluster1", Component::kApiServer));
    const auto healthy = SteadyClock::now();
    CHECK_OK(WaitForMetric(
        controller, "cluster1 connected and leading",
        [](const ControllerProcess& c) {
          return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster1"}}) == 1.0 &&
                 c.Metric("globalsvc_leader") == 1.0;
        },
        60s));
    const auto reconnected = SteadyClock::now();
    // The controller reconciles again: an annotation and a scale flow through.
    REQUIRE(bed.Kubectl("cluster1",
                        {"annotate", "--overwrite", "service", "in-ambient", "-n", "httpbin",
                         "networking.istio.io/traffic-distribution=PreferRegion"})
                .ok());
    CHECK_OK(WaitFor("PreferRegion in cluster1", 60s, [&](std::string* why) {
      auto e = GetServiceEntry(bed, "cluster1", testbed::kGuideEntry);
      if (!e) return false;
      *why = (*e)["metadata"].value("annotations", nlohmann::json::object()).dump();
      return testbed::RequestedDistribution(*e) == "PreferRegion";
    }));
    const auto annotated = SteadyClock::now();
    REQUIRE_OK(bed.Scale("cluster1", "httpbin", "in-ambient", 0));
    // The cluster's own controllers also reconnect after the restart and can
    // be slow to update the EndpointSlice on a loaded machine: wait for the
    // slice first, so what is measured next is globalsvc alone.
    CHECK_OK(WaitFor("cluster1's EndpointSlice emptied", 180s, [&](std::string* why) {
      auto slices = bed.GetJson("cluster1", {"endpointslices", "-n", "httpbin", "-l",
                                             "kubernetes.io/service-name=in-ambient"});
      if (!slices.ok()) return false;
      std::size_t ready = 0;
      for (const auto& slice : (*slices)["items"]) {
        for (const auto& endpoint : slice.value("endpoints", nlohmann::json::array())) {
          if (endpoint.value("conditions", nlohmann::json::object()).value("ready", true)) ++ready;
        }
      }
      *why = std::to_string(ready) + " ready endpoints";
      return ready == 0;
    }));
    CHECK_OK(WaitForEndpoints(bed, "cluster1",
                              {"cluster2 cluster2-network us-west-2/us-west-2a 2 gateway"}));
    REQUIRE_OK(bed.Scale("cluster1", "httpbin", "in-ambient", 2));
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
    Figure("local controller connected and leading after its apiserver is healthy",
           Seconds(reconnected - healthy));
    Figure("local annotation visible after its apiserver is healthy", Seconds(annotated - healthy));
  }

  REQUIRE_OK(DeleteSecret(bed, "faults-remote"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
  StopAndCheckLog(world, controller);
}

TEST_CASE("Two replicas: one writes, the other takes over within the lease duration",
          "[controller][faults][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(world);
  const std::string lease = "globalsvc-faults-ha";
  // A lease left by an earlier run would delay the first leader.
  REQUIRE(bed.Kubectl("cluster1",
                      {"delete", "lease", "-n", "istio-system", lease, "--ignore-not-found"})
              .ok());
  REQUIRE_OK(ApplySecret(bed, "faults-remote", world.admin));
  auto a = StartController(world, "faults-replica-a", lease);
  REQUIRE_OK(StatusOf(a));
  auto b = StartController(world, "faults-replica-b", lease);
  REQUIRE_OK(StatusOf(b));
  std::vector<ControllerProcess*> replicas = {a->get(), b->get()};
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));

  ControllerProcess* leader = nullptr;
  ControllerProcess* standby = nullptr;
  REQUIRE_OK(WaitFor("exactly one leader", 30s, [&](std::string* why) {
    const auto la = replicas[0]->Metric("globalsvc_leader");
    const auto lb = replicas[1]->Metric("globalsvc_leader");
    *why = "a=" + std::to_string(la.value_or(-1)) + " b=" + std::to_string(lb.value_or(-1));
    if (!la || !lb || *la + *lb != 1.0) return false;
    leader = *la == 1.0 ? replicas[0] : replicas[1];
    standby = *la == 1.0 ? replicas[1] : replicas[0];
    return true;
  }));

  const auto annotate = [&](const std::string& value) {
    REQUIRE(
        bed.Kubectl("cluster1", {"annotate", "--overwrite", "service", "in-ambient", "-n",
                                 "httpbin", "networking.istio.io/traffic-distribution=" + value})
            .ok());
    REQUIRE_OK(WaitFor(value + " in cluster1", 60s, [&](std::string* why) {
      auto e = GetServiceEntry(bed, "cluster1", testbed::kGuideEntry);
      if (!e) return false;
      *why = (*e)["metadata"].value("annotations", nlohmann::json::object()).dump();
      return testbed::RequestedDistribution(*e) == value;
    }));
  };
  // Only the leader writes.
  annotate("PreferClose");
  CHECK(leader->MetricOr0("globalsvc_writes_total", {{"kind", "apply"}}) >= 1);
  CHECK(standby->MetricOr0("globalsvc_writes_total", {{"kind", "apply"}}) == 0);
  CHECK(standby->Metric("globalsvc_leader") == 0.0);

  // Only the leader records Events: both replicas see a Secret that cannot be
  // used, and it is reported once.
  // Named per run: Events of an earlier run stay for an hour.
  const std::string bad_secret = "faults-ha-unusable-" + std::to_string(::getpid());
  REQUIRE_OK(bed.Apply("cluster1", RemoteSecretYaml(bad_secret, "cluster9", world.malformed_yaml)));
  const auto reporters = [&] {
    return WarningEventReporters(bed, "cluster1", "istio-system", "Secret", bad_secret,
                                 "RemoteClusterSecret");
  };
  CHECK_OK(WaitFor("the leader's RemoteClusterSecret Event", 30s, [&](std::string* why) {
    const auto found = reporters();
    *why = "reported by: " + Joined({found.begin(), found.end()});
    return found.count(leader->identity()) == 1;
  }));
  std::this_thread::sleep_for(5s);  // the standby's 2 s loop has run twice
  CHECK(reporters() == std::set<std::string>{leader->identity()});
  CHECK(WarningEventReporters(bed, "cluster1", "istio-system", "Secret", bad_secret,
                              "RemoteClusterUnreachable") ==
        std::set<std::string>{leader->identity()});

  // The leader dies without releasing the lease; the ServiceEntry stays
  // exact and is never deleted or recreated (same uid) during the handover.
  auto before = GetServiceEntry(bed, "cluster1", testbed::kGuideEntry);
  REQUIRE(before);
  const std::string uid = (*before)["metadata"].value("uid", "");
  EntryPoller poller(bed, [&](const nlohmann::json* entry) -> std::string {
    if (!entry) return "no ServiceEntry";
    if ((*entry)["metadata"].value("uid", "") != uid) return "recreated";
    auto lines = EndpointLines(*entry);
    return lines == FullView(2) ? "" : "endpoints " + JoinLines(lines);
  });
  const auto killed = SteadyClock::now();
  leader->Kill();
  REQUIRE_OK(WaitForMetric(
      *standby, "the standby leads",
      [](const ControllerProcess& c) { return c.Metric("globalsvc_leader") == 1.0; }, 30s));
  const double handover = Seconds(SteadyClock::now() - killed);
  CHECK(handover <= 15 + 5);
  auto holder = bed.GetJson("cluster1", {"lease", "-n", "istio-system", lease});
  REQUIRE(holder.ok());
  CHECK((*holder)["spec"].value("holderIdentity", "") == standby->identity());
  // The new leader writes.
  annotate("PreferNetwork");
  CHECK(standby->MetricOr0("globalsvc_writes_total", {{"kind", "apply"}}) >= 1);
  CHECK_OK(poller.StopAfter(5));
  INFO("misses:\n" << Joined(poller.misses()));
  CHECK(poller.misses().empty());
  CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  Figure("leader handover after SIGKILL of the leader", handover);
  // A problem that lasts is reported by the new leader too.
  CHECK_OK(WaitFor("the new leader's RemoteClusterSecret Event", 30s, [&](std::string* why) {
    const auto found = reporters();
    *why = "reported by: " + Joined({found.begin(), found.end()});
    return found.count(standby->identity()) == 1;
  }));
  REQUIRE_OK(DeleteSecret(bed, bad_secret));

  REQUIRE(bed.Kubectl("cluster1", {"annotate", "service", "in-ambient", "-n", "httpbin",
                                   "networking.istio.io/traffic-distribution-"})
              .ok());
  REQUIRE_OK(DeleteSecret(bed, "faults-remote"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
  StopAndCheckLog(world, *standby);
  CheckLog(world, *leader);
}

TEST_CASE("Bad objects in the local cluster", "[controller][faults][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(world);
  const std::string long_name = "faults-" + std::string(63 - 7, 'n');
  REQUIRE(long_name.size() == 63);
  const std::string services = R"(
apiVersion: v1
kind: Service
metadata:
  name: faults-unknown-scope
  namespace: default
  labels: {solo.io/service-scope: worldwide}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: faults-udp-only
  namespace: default
  labels: {solo.io/service-scope: global}
spec:
  ports: [{name: dns, port: 53, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata:
  name: )" + long_name + R"(
  namespace: default
  labels: {solo.io/service-scope: global}
spec:
  ports: [{name: http, port: 80}]
)";
  auto started = StartController(world, "faults-objects", "globalsvc-faults-objects");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
  REQUIRE_OK(bed.Apply("cluster1", services));

  // Unknown scope: not exported, a Warning Event on the Service.
  CHECK_OK(WaitFor("UnknownScope Event", 30s, [&](std::string*) {
    return HasWarningEvent(bed, "cluster1", "default", "Service", "faults-unknown-scope",
                           "UnknownScope");
  }));
  CHECK(controller.MetricOr0("globalsvc_diagnostics_total", {{"code", "UnknownScope"}}) >= 1);
  CHECK_FALSE(GetServiceEntry(bed, "cluster1", "autogen.default.faults-unknown-scope"));

  // UDP only: reported, no ServiceEntry.
  CHECK_OK(WaitFor("NoTcpPorts Event", 30s, [&](std::string*) {
    return HasWarningEvent(bed, "cluster1", "default", "Service", "faults-udp-only", "NoTcpPorts");
  }));
  CHECK_FALSE(GetServiceEntry(bed, "cluster1", "autogen.default.faults-udp-only"));

  // A name at the 63-character limit: the ServiceEntry carries it whole.
  const std::string long_entry = "autogen.default." + long_name;
  std::optional<nlohmann::json> entry;
  CHECK_OK(WaitFor("ServiceEntry " + long_entry, 30s, [&](std::string*) {
    entry = GetServiceEntry(bed, "cluster1", long_entry);
    return entry.has_value();
  }));
  if (entry) {
    CHECK((*entry)["spec"]["hosts"] ==
          nlohmann::json::array({long_name + ".default.mesh.internal"}));
    CHECK((*entry)["metadata"]["labels"]["solo.io/parent-service"] == long_name);
    CHECK(EndpointLines(*entry).empty());
  }
  // The guide's service is untouched by all this.
  CHECK_OK(WaitForEndpoints(bed, "cluster1", kLocalView));

  REQUIRE_OK(bed.Delete("cluster1", services));
  CHECK_OK(WaitFor(long_entry + " removed", 30s,
                   [&](std::string*) { return !GetServiceEntry(bed, "cluster1", long_entry); }));
  INFO("controller log (last lines):\n" << controller.Tail());
  REQUIRE(controller.Running());
  StopAndCheckLog(world, controller);
}

}  // namespace
}  // namespace globalsvc::controller
