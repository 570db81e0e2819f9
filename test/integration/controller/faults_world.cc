#include "test/integration/controller/faults_world.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <sstream>

#include "lib/kube/pem.h"

namespace globalsvc::controller::faults {
namespace {

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

// Read access to what the controller watches in a remote cluster, as the
// chart's reader role grants it (pods too: the default shape reads each pod's
// identity), for the ServiceAccount cluster2's rotated Secret uses; a second
// ServiceAccount has no binding at all (403).
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
  resources: [services, namespaces, nodes, pods]
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

}  // namespace

World& GetWorld() {
  static World world;
  static const Status built = BuildWorld(world);
  INFO(Message(built));
  REQUIRE(built.ok());
  return world;
}

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

}  // namespace globalsvc::controller::faults
