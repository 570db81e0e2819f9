#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "lib/base/yaml_json.h"
#include "lib/kube/kubeconfig.h"
#include "lib/kube/pem.h"
#include "test/unit/kube/temp_dir.h"

namespace globalsvc::cli {
namespace {

using nlohmann::json;

const std::string& CaPem() {
  static const std::string pem = [] {
    kube::testing::TempDir dir;
    return kube::testing::MakeCertificate(dir, "remote-ca").certificate_pem;
  }();
  return pem;
}

RemoteAccess Access() {
  RemoteAccess access;
  access.cluster_name = "cluster2";
  access.server = "https://10.1.2.3:6443";
  access.certificate_authority_pem = CaPem();
  access.token = "token-value";
  return access;
}

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome RemoteSecret(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int code = RunRemoteSecret(args, {out, err});
  return {code, out.str(), err.str()};
}

// The Secret as the other cluster's controller reads it: printed YAML, parsed
// back, data key decoded and loaded as a kubeconfig.
kube::ClusterConfig LoadFromSecret(const json& secret, const std::string& key) {
  auto documents = ParseYamlDocuments(EmitYaml(secret));
  REQUIRE(documents.ok());
  REQUIRE(documents->size() == 1);
  const json& parsed = documents->front();
  REQUIRE(parsed["data"].contains(key));
  auto kubeconfig = kube::DecodeBase64(parsed["data"][key].get<std::string>());
  REQUIRE(kubeconfig.has_value());
  auto config = kube::ParseKubeconfig(*kubeconfig, "secret", "");
  REQUIRE(config.ok());
  return *config;
}

TEST_CASE("remote-secret builds a Secret with globalsvc's own label and name, which istiod ignores",
          "[cli][remote-secret]") {
  auto secret = BuildRemoteSecret(Access(), "istio-system");
  REQUIRE(secret.ok());
  CHECK((*secret)["apiVersion"] == "v1");
  CHECK((*secret)["kind"] == "Secret");
  CHECK((*secret)["type"] == "Opaque");
  // Not istioctl's istio-remote-secret-<cluster>, which applying ours would replace.
  CHECK((*secret)["metadata"]["name"] == "globalsvc-remote-cluster2");
  CHECK((*secret)["metadata"]["namespace"] == "istio-system");
  CHECK((*secret)["metadata"]["labels"]["globalsvc.solo.io/remote-cluster"] == "true");
  // Not the label istiod watches.
  CHECK_FALSE((*secret)["metadata"]["labels"].contains("istio/multiCluster"));
  CHECK((*secret)["data"].size() == 1);

  // The label value stays a string when printed ("true", not a boolean).
  const std::string yaml = EmitYaml(*secret);
  CHECK(yaml.find("globalsvc.solo.io/remote-cluster: \"true\"") != std::string::npos);
}

TEST_CASE("remote-secret's kubeconfig reaches the server with the token and CA",
          "[cli][remote-secret]") {
  auto secret = BuildRemoteSecret(Access(), "istio-system");
  REQUIRE(secret.ok());
  const kube::ClusterConfig config = LoadFromSecret(*secret, "cluster2");
  CHECK(config.name == "cluster2");
  CHECK(config.server == "https://10.1.2.3:6443");
  CHECK(config.certificate_authority_pem == CaPem());
  CHECK(config.auth.token == "token-value");
  CHECK(config.auth.client_certificate_pem.empty());
  CHECK_FALSE(config.insecure_skip_tls_verify);
}

TEST_CASE("remote-secret's kubeconfig names one cluster, user and context",
          "[cli][remote-secret]") {
  RemoteAccess access = Access();
  access.tls_server_name = "api.cluster2.internal";
  auto kubeconfig = BuildRemoteKubeconfig(access);
  REQUIRE(kubeconfig.ok());
  CHECK((*kubeconfig)["current-context"] == "cluster2");
  REQUIRE((*kubeconfig)["clusters"].size() == 1);
  REQUIRE((*kubeconfig)["users"].size() == 1);
  REQUIRE((*kubeconfig)["contexts"].size() == 1);
  CHECK((*kubeconfig)["contexts"][0]["context"] ==
        json{{"cluster", "cluster2"}, {"user", "cluster2"}});
  CHECK((*kubeconfig)["clusters"][0]["cluster"]["tls-server-name"] == "api.cluster2.internal");
  CHECK((*kubeconfig)["users"][0]["user"] == json{{"token", "token-value"}});
  CHECK(kube::DecodeBase64((*kubeconfig)["clusters"][0]["cluster"]["certificate-authority-data"]
                               .get<std::string>()) == CaPem());
}

TEST_CASE("remote-secret refuses inputs that cannot make a working kubeconfig",
          "[cli][remote-secret]") {
  struct Case {
    const char* what;
    void (*change)(RemoteAccess&);
    const char* message;
  };
  const Case cases[] = {
      {"bad name", [](RemoteAccess& a) { a.cluster_name = "Cluster_2"; }, "not a DNS label"},
      {"http server", [](RemoteAccess& a) { a.server = "http://10.1.2.3"; }, "not an https://"},
      {"no token", [](RemoteAccess& a) { a.token.clear(); }, "token is empty"},
      {"no CA", [](RemoteAccess& a) { a.certificate_authority_pem.clear(); },
       "no certificate authority"},
      {"bad CA", [](RemoteAccess& a) { a.certificate_authority_pem = "not pem"; },
       "not PEM certificates"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    RemoteAccess access = Access();
    c.change(access);
    auto secret = BuildRemoteSecret(access, "istio-system");
    REQUIRE_FALSE(secret.ok());
    CHECK(secret.error().code == ErrorCode::kInvalidInput);
    CHECK_THAT(secret.error().message, Catch::Contains(c.message));
    // No error message repeats the token.
    CHECK_THAT(secret.error().message, !Catch::Contains("token-value"));
  }
  auto bad_namespace = BuildRemoteSecret(Access(), "Istio System");
  CHECK_FALSE(bad_namespace.ok());
}

TEST_CASE("remote-secret accepts exactly the DNS labels as cluster names", "[cli][remote-secret]") {
  for (const std::string& name :
       std::vector<std::string>{"a", "cluster2", "us-east-1", "0a", std::string(63, 'x')}) {
    INFO(name);
    RemoteAccess access = Access();
    access.cluster_name = name;
    CHECK(BuildRemoteSecret(access, "istio-system").ok());
  }
  for (const std::string& name : std::vector<std::string>{"", "-a", "a-", "A", "a_b", "a.b", "a b",
                                                          "ü", std::string(64, 'x')}) {
    INFO(name);
    RemoteAccess access = Access();
    access.cluster_name = name;
    auto secret = BuildRemoteSecret(access, "istio-system");
    REQUIRE_FALSE(secret.ok());
    CHECK_THAT(secret.error().message, Catch::Contains("not a DNS label"));
  }
}

TEST_CASE("remote-secret refuses to print a Secret that cannot verify the server",
          "[cli][remote-secret]") {
  RemoteAccess access = Access();
  access.certificate_authority_pem.clear();
  auto kubeconfig = BuildRemoteKubeconfig(access);
  REQUIRE_FALSE(kubeconfig.ok());
  CHECK_THAT(kubeconfig.error().message, Catch::Contains("no certificate authority"));
  auto printed = BuildRemoteKubeconfig(Access());
  REQUIRE(printed.ok());
  CHECK_FALSE((*printed)["clusters"][0]["cluster"].contains("insecure-skip-tls-verify"));
}

TEST_CASE("remote-secret binds the reader ServiceAccount to the chart's reader roles",
          "[cli][remote-secret]") {
  ReaderIdentity reader;
  reader.service_account = "mesh-reader";
  reader.service_account_namespace = "readers";
  reader.reader_role = "globalsvc-reader";
  reader.control_plane_namespace = "istio-system";
  const ReaderObjectSet set = ReaderObjects(reader);

  CHECK(set.service_account["metadata"]["name"] == "mesh-reader");
  CHECK(set.service_account["metadata"]["namespace"] == "readers");

  CHECK(set.token_secret_name == "mesh-reader-token");
  CHECK(set.token_secret["type"] == "kubernetes.io/service-account-token");
  CHECK(set.token_secret["metadata"]["namespace"] == "readers");
  CHECK(set.token_secret["metadata"]["annotations"]["kubernetes.io/service-account.name"] ==
        "mesh-reader");

  const json subject = {
      {"kind", "ServiceAccount"}, {"name", "mesh-reader"}, {"namespace", "readers"}};
  CHECK(set.cluster_role_binding["kind"] == "ClusterRoleBinding");
  CHECK(set.cluster_role_binding["roleRef"]["kind"] == "ClusterRole");
  CHECK(set.cluster_role_binding["roleRef"]["name"] == "globalsvc-reader");
  CHECK(set.cluster_role_binding["subjects"] == json::array({subject}));
  CHECK(set.role_binding["kind"] == "RoleBinding");
  CHECK(set.role_binding["metadata"]["namespace"] == "istio-system");
  CHECK(set.role_binding["roleRef"]["kind"] == "Role");
  CHECK(set.role_binding["roleRef"]["name"] == "globalsvc-reader");
  CHECK(set.role_binding["subjects"] == json::array({subject}));
  // Not the chart's own binding name (globalsvc-reader), so the two never
  // manage one object.
  CHECK(set.binding_name == "globalsvc-reader:readers:mesh-reader");
  CHECK(set.cluster_role_binding["metadata"]["name"] == set.binding_name);
  CHECK(set.role_binding["metadata"]["name"] == set.binding_name);
}

TEST_CASE("remote-secret usage errors exit 2 before touching a cluster", "[cli][remote-secret]") {
  CHECK(RemoteSecret({"--help"}).code == kExitOk);
  CHECK_THAT(RemoteSecret({"--help"}).out,
             Catch::Contains("globalsvc.solo.io/remote-cluster=true"));
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"--context", "c2"},
      {"--name", "Cluster 2"},
      {"--name", "cluster2", "--bogus"},
      {"--name", "cluster2", "extra"},
      {"--name", "cluster2", "--server", "http://plain"},
      {"--name", "cluster2", "--timeout", "soon"},
      {"--name", "cluster2", "--namespace", "Bad_NS"},
  };
  for (const auto& args : bad) {
    const Outcome outcome = RemoteSecret(args);
    INFO(outcome.err);
    CHECK(outcome.code == kExitUsage);
    CHECK(outcome.out.empty());
  }
}

TEST_CASE("remote-secret refuses a kubeconfig that does not verify the server",
          "[cli][remote-secret]") {
  kube::testing::TempDir dir;
  // 127.0.0.1:1: nothing listens, and nothing may be contacted anyway.
  const std::string path =
      dir.Write("kubeconfig",
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                "    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\n"
                "users:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: x\n"
                "  context: {cluster: c, user: u}\ncurrent-context: x\n");
  const Outcome outcome = RemoteSecret({"--name", "cluster2", "--kubeconfig", path});
  CHECK(outcome.code == kExitFindings);
  CHECK(outcome.out.empty());
  CHECK_THAT(outcome.err,
             Catch::Contains("insecure-skip-tls-verify") && !Catch::Contains("cannot connect"));
}

TEST_CASE("remote-secret exits 1 when the kubeconfig cannot be loaded", "[cli][remote-secret]") {
  const Outcome outcome =
      RemoteSecret({"--name", "cluster2", "--kubeconfig", "/nonexistent/kubeconfig"});
  CHECK(outcome.code == kExitFindings);
  CHECK(outcome.out.empty());
  CHECK_THAT(outcome.err, Catch::Contains("/nonexistent/kubeconfig"));
}

}  // namespace
}  // namespace globalsvc::cli
