#include "lib/kube/kubeconfig.h"

#include <catch2/catch.hpp>
#include <cstdlib>

#include "lib/kube/pem.h"
#include "test/unit/kube/temp_dir.h"

namespace globalsvc::kube {
namespace {

using testing::MakeCertificate;
using testing::TempDir;

std::string Config(const std::string& cluster, const std::string& user,
                   const std::string& extra = "current-context: ctx\n") {
  return "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster:\n" + cluster +
         "users:\n- name: u1\n  user:\n" + user +
         "contexts:\n- name: ctx\n  context:\n    cluster: c1\n    user: u1\n    namespace: ns1\n" +
         extra;
}

// Loads `text` as a kubeconfig file in `dir` and returns the error message
// (empty on success).
std::string LoadError(const TempDir& dir, const std::string& text) {
  auto result = LoadKubeconfigFiles({dir.Write("config", text)});
  if (result.ok()) return {};
  CHECK(result.error().code == ErrorCode::kInvalidInput);
  return result.error().message;
}

TEST_CASE("Kubeconfig with inline CA, client certificate and key loads", "[kube][kubeconfig]") {
  TempDir dir;
  const auto ca = MakeCertificate(dir, "ca");
  const auto client = MakeCertificate(dir, "client");
  const auto text = Config("    server: https://127.0.0.1:6443\n    certificate-authority-data: " +
                               EncodeBase64(ca.certificate_pem) + "\n",
                           "    client-certificate-data: " + EncodeBase64(client.certificate_pem) +
                               "\n    client-key-data: " + EncodeBase64(client.key_pem) + "\n");
  auto config = LoadKubeconfigFiles({dir.Write("config", text)});
  REQUIRE(config.ok());
  CHECK(config->name == "ctx");
  CHECK(config->server == "https://127.0.0.1:6443");
  CHECK(config->namespace_name == "ns1");
  CHECK(config->certificate_authority_pem == ca.certificate_pem);
  CHECK(config->auth.client_certificate_pem == client.certificate_pem);
  CHECK(config->auth.client_key_pem == client.key_pem);
  CHECK_FALSE(config->insecure_skip_tls_verify);
}

TEST_CASE("Kubeconfig file references resolve against the kubeconfig's folder",
          "[kube][kubeconfig]") {
  TempDir dir;
  const auto ca = MakeCertificate(dir, "ca");
  MakeCertificate(dir, "client");
  dir.Write("token", "secret-token\n");
  const auto text = Config(
      "    server: https://kube.example:8443/prefix/\n    certificate-authority: ca.crt\n"
      "    tls-server-name: api.internal\n",
      "    client-certificate: client.crt\n    client-key: client.key\n    tokenFile: token\n");
  auto config = LoadKubeconfigFiles({dir.Write("config", text)});
  REQUIRE(config.ok());
  CHECK(config->certificate_authority_pem == ca.certificate_pem);
  CHECK(config->tls_server_name == "api.internal");
  CHECK(config->auth.token_file == (dir.path() / "token").string());
  CHECK_FALSE(config->auth.client_key_pem.empty());
}

TEST_CASE("Kubeconfig with a token and insecure-skip-tls-verify loads", "[kube][kubeconfig]") {
  TempDir dir;
  auto config = LoadKubeconfigFiles({dir.Write(
      "config", Config("    server: https://10.0.0.1\n    insecure-skip-tls-verify: true\n",
                       "    token: abc\n"))});
  REQUIRE(config.ok());
  CHECK(config->insecure_skip_tls_verify);
  CHECK(config->auth.token == "abc");
}

TEST_CASE("A kubeconfig from a Secret may not reach files, commands or turn TLS checks off",
          "[kube][kubeconfig]") {
  TempDir dir;
  const auto ca = MakeCertificate(dir, "ca");
  const std::string server = "    server: https://10.0.0.1\n";
  const std::string inline_ca =
      "    certificate-authority-data: " + EncodeBase64(ca.certificate_pem) + "\n";
  struct Case {
    std::string cluster, user, field;
  };
  const std::vector<Case> cases = {
      {server + "    certificate-authority: " + (dir.path() / "ca.crt").string() + "\n",
       "    token: abc\n", "certificate-authority"},
      {server + "    insecure-skip-tls-verify: true\n", "    token: abc\n",
       "insecure-skip-tls-verify"},
      {server + inline_ca, "    tokenFile: " + dir.Write("token", "controller-token\n") + "\n",
       "tokenFile"},
      {server + inline_ca,
       "    client-certificate: " + (dir.path() / "ca.crt").string() +
           "\n    client-key: " + (dir.path() / "ca.key").string() + "\n",
       "client-certificate"},
      {server + inline_ca,
       "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
       "      command: /bin/sh\n      args: [-c, 'touch /tmp/pwned']\n",
       "exec"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.field);
    const std::string text = Config(c.cluster, c.user);
    // The operator's own file may do all of this ...
    CHECK(ParseKubeconfig(text, "file", dir.path().string()).ok());
    // ... a Secret's data may not.
    auto refused = ParseKubeconfig(text, "secret s key k", "", {}, KubeconfigTrust::kClusterData);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::kInvalidInput);
    CHECK_THAT(refused.error().message, Catch::Contains(c.field) && Catch::Contains("Secret"));
  }
  auto inline_only = ParseKubeconfig(Config(server + inline_ca, "    token: abc\n"),
                                     "secret s key k", "", {}, KubeconfigTrust::kClusterData);
  REQUIRE(inline_only.ok());
  CHECK(inline_only->certificate_authority_pem == ca.certificate_pem);
  CHECK(inline_only->auth.token == "abc");
  // No CA at all would mean the system trust store: refused from a Secret.
  const std::string no_ca = Config(server, "    token: abc\n");
  CHECK(ParseKubeconfig(no_ca, "file", dir.path().string()).ok());
  auto without_ca = ParseKubeconfig(no_ca, "secret s key k", "", {}, KubeconfigTrust::kClusterData);
  REQUIRE_FALSE(without_ca.ok());
  CHECK_THAT(without_ca.error().message, Catch::Contains("certificate-authority-data"));
}

TEST_CASE("Kubeconfig exec plugin settings load", "[kube][kubeconfig]") {
  TempDir dir;
  auto config = LoadKubeconfigFiles({dir.Write(
      "config", Config("    server: https://10.0.0.1\n    insecure-skip-tls-verify: true\n",
                       "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                       "      command: ./bin/plugin\n      args: [get-token, --x]\n"
                       "      env:\n      - name: REGION\n        value: eu\n"
                       "      provideClusterInfo: true\n      interactiveMode: Never\n"))});
  REQUIRE(config.ok());
  REQUIRE(config->auth.exec);
  CHECK(config->auth.exec->command == (dir.path() / "bin/plugin").string());
  CHECK(config->auth.exec->args == std::vector<std::string>{"get-token", "--x"});
  CHECK(config->auth.exec->env.at(0) == std::pair<std::string, std::string>{"REGION", "eu"});
  CHECK(config->auth.exec->provide_cluster_info);
}

TEST_CASE("Kubeconfig lists merge: first definition and first current-context win",
          "[kube][kubeconfig]") {
  TempDir dir;
  const std::string first =
      "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c\n  cluster:\n"
      "    server: https://first\n    insecure-skip-tls-verify: true\n"
      "contexts:\n- name: a\n  context: {cluster: c, user: u}\n";
  const std::string second =
      "apiVersion: v1\nkind: Config\ncurrent-context: b\nclusters:\n- name: c\n  cluster:\n"
      "    server: https://second\n"
      "users:\n- name: u\n  user: {token: t2}\n"
      "contexts:\n- name: b\n  context: {cluster: c, user: u}\n";
  const auto a = dir.Write("a", first);
  const auto b = dir.Write("b", second);
  auto config = LoadKubeconfigFiles({a, b});
  REQUIRE(config.ok());
  CHECK(config->name == "a");
  CHECK(config->server == "https://first");
  CHECK(config->auth.token == "t2");
  auto other = LoadKubeconfigFiles({a, b}, "b");
  REQUIRE(other.ok());
  CHECK(other->name == "b");

  setenv("KUBECONFIG", (a + ":" + (dir.path() / "missing").string() + ":" + b).c_str(), 1);
  auto from_env = LoadKubeconfig("", "b");
  unsetenv("KUBECONFIG");
  REQUIRE(from_env.ok());
  CHECK(from_env->auth.token == "t2");
}

TEST_CASE("Malformed kubeconfigs name the wrong field and never print credentials",
          "[kube][kubeconfig]") {
  TempDir dir;
  const auto client = MakeCertificate(dir, "client");
  const std::string insecure = "    server: https://10.0.0.1\n    insecure-skip-tls-verify: true\n";
  struct Case {
    std::string name;
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"not YAML", "clusters: [", "not valid YAML"},
      {"no current context", Config(insecure, "    token: x\n", ""), "current-context"},
      {"unknown context", Config(insecure, "    token: x\n", "current-context: nope\n"),
       "contexts[name=nope]: no such context"},
      {"no server", Config("    insecure-skip-tls-verify: true\n", "    token: x\n"),
       "clusters[name=c1].cluster.server: missing"},
      {"http server", Config("    server: http://10.0.0.1\n", "    token: x\n"),
       "cluster.server: must start with https://"},
      {"bad port", Config("    server: https://10.0.0.1:99999\n", "    token: x\n"),
       "cluster.server: has a malformed port"},
      {"bad CA base64",
       Config("    server: https://h\n    certificate-authority-data: '%%%'\n", "    token: x\n"),
       "cluster.certificate-authority-data: not valid base64"},
      {"CA not PEM",
       Config(
           "    server: https://h\n    certificate-authority-data: " + EncodeBase64("hello") + "\n",
           "    token: x\n"),
       "certificate-authority[-data]: holds no PEM certificate"},
      {"missing CA file",
       Config("    server: https://h\n    certificate-authority: nope.crt\n", "    token: x\n"),
       "cluster.certificate-authority: cannot read file"},
      {"insecure with CA",
       Config("    server: https://h\n    insecure-skip-tls-verify: true\n"
              "    certificate-authority-data: " +
                  EncodeBase64(client.certificate_pem) + "\n",
              "    token: x\n"),
       "insecure-skip-tls-verify: cannot be combined"},
      {"insecure not bool",
       Config("    server: https://h\n    insecure-skip-tls-verify: maybe\n", "    token: x\n"),
       "insecure-skip-tls-verify: must be true or false"},
      {"cert without key",
       Config(insecure,
              "    client-certificate-data: " + EncodeBase64(client.certificate_pem) + "\n"),
       "users[name=u1].user.client-key: missing"},
      {"key not PEM",
       Config(insecure, "    client-certificate-data: " + EncodeBase64(client.certificate_pem) +
                            "\n    client-key-data: " + EncodeBase64("SECRETKEYBYTES") + "\n"),
       "client-key[-data]: holds no readable PEM key"},
      {"cert file and data",
       Config(insecure, "    client-certificate: client.crt\n    client-certificate-data: " +
                            EncodeBase64(client.certificate_pem) +
                            "\n    client-key: client.key\n"),
       "client-certificate: set together with client-certificate-data"},
      {"missing token file", Config(insecure, "    tokenFile: /nonexistent/token\n"),
       "user.tokenFile: cannot read file"},
      {"exec without command",
       Config(insecure, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"),
       "user.exec.command: missing"},
      {"exec old api",
       Config(insecure,
              "    exec:\n      command: x\n      apiVersion: "
              "client.authentication.k8s.io/v1alpha1\n"),
       "user.exec.apiVersion: unsupported"},
      {"exec interactive",
       Config(insecure,
              "    exec:\n      command: x\n      apiVersion: "
              "client.authentication.k8s.io/v1\n      interactiveMode: Always\n"),
       "user.exec.interactiveMode"},
      {"exec and token",
       Config(insecure,
              "    token: SECRETTOKEN\n    exec:\n      command: x\n"
              "      apiVersion: client.authentication.k8s.io/v1\n"),
       "user.exec: cannot be combined with token"},
      {"auth provider", Config(insecure, "    auth-provider: {name: gcp}\n"),
       "user.auth-provider: is not supported"},
      {"undefined user",
       "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c\n  cluster: "
       "{server: 'https://h'}\ncontexts:\n- name: a\n  context: {cluster: c, user: ghost}\n",
       "contexts[name=a].context.user: names user ghost, which is not defined"},
      {"cluster entry without name",
       "apiVersion: v1\nkind: Config\nclusters:\n- cluster: {server: 'https://h'}\n",
       "clusters[0].name: missing"},
      {"wrong kind", "apiVersion: v1\nkind: Pod\n", "kind: must be Config"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      const std::string message = LoadError(dir, c.text);
      INFO(message);
      CHECK_THAT(message, Catch::Contains(c.expected));
      CHECK_THAT(message, !Catch::Contains("SECRET"));
      CHECK_THAT(message, !Catch::Contains("BEGIN"));
    }
  }
}

TEST_CASE("In-cluster config reads the service account folder", "[kube][kubeconfig]") {
  TempDir dir;
  const auto ca = MakeCertificate(dir, "ca");
  dir.Write("token", "sa-token\n");
  dir.Write("namespace", "istio-system");
  InClusterSource source{dir.path().string(), "10.96.0.1", "443"};
  auto config = LoadInClusterConfig(source);
  REQUIRE(config.ok());
  CHECK(config->server == "https://10.96.0.1:443");
  CHECK(config->auth.token_file == (dir.path() / "token").string());
  CHECK(config->certificate_authority_pem == ca.certificate_pem);
  CHECK(config->namespace_name == "istio-system");

  InClusterSource ipv6{dir.path().string(), "fd00::1", "443"};
  auto v6 = LoadInClusterConfig(ipv6);
  REQUIRE(v6.ok());
  CHECK(v6->server == "https://[fd00::1]:443");

  InClusterSource missing{(dir.path() / "nope").string(), "10.96.0.1", "443"};
  auto error = LoadInClusterConfig(missing);
  REQUIRE_FALSE(error.ok());
  CHECK_THAT(error.error().message, Catch::Contains("token"));
}

}  // namespace
}  // namespace globalsvc::kube
