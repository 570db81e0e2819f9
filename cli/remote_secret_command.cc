// globalsvc remote-secret: a read-only identity in a remote cluster, and the
// globalsvc.solo.io/remote-cluster=true Secret that lets the OTHER clusters'
// controllers read it. Talks only to the remote cluster; the Secret is printed, never
// applied, so the caller decides where it goes:
//
//   globalsvc remote-secret --context cluster2 --name cluster2 |
//     kubectl --context cluster1 apply -f -
//
// The token is secret material: it appears in the printed Secret on stdout and
// nowhere else (no progress line, error or log names it).

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string_view>
#include <thread>

#include "cli/commands.h"
#include "cli/flags.h"
#include "controller/remote_secret_labels.h"
#include "lib/base/yaml_json.h"
#include "lib/kube/kube_client.h"
#include "lib/kube/kubeconfig.h"
#include "lib/kube/pem.h"
#include "lib/kube/resource_type.h"
#include "lib/mesh/model.h"

namespace globalsvc::cli {
namespace {

using nlohmann::json;

constexpr const char* kRemoteSecretUsage =
    R"(Usage: globalsvc remote-secret --name CLUSTER [--context CONTEXT] [flags]

Prints, on standard output, the Secret that connects the OTHER clusters'
controllers to this (remote) cluster: labelled
globalsvc.solo.io/remote-cluster=true, named globalsvc-remote-CLUSTER, holding
a kubeconfig under the data key CLUSTER that reads this cluster with the token
of a reader ServiceAccount. istiod does not watch that label, so the Secret
never turns into istiod's own multicluster. Apply it in every other cluster:

  globalsvc remote-secret --context cluster2 --name cluster2 |
    kubectl --context cluster1 apply -f -

The command talks only to the cluster of --context. It reads the reader
ServiceAccount (the chart creates it with remoteReader.enabled=true), or with
--create-service-account creates it and binds it to the chart's reader
ClusterRole and Role. The token comes from the ServiceAccount's long-lived
token Secret (<service-account>-token), created when missing and waited for
until the cluster's token controller fills it in. The token is printed only
inside the Secret.

Flags:
      --name CLUSTER             this cluster's name in the mesh: the data key and
                                 the Secret's name (required)
      --context CONTEXT          kubeconfig context of this cluster (default:
                                 current-context)
      --kubeconfig FILE          kubeconfig (default: $KUBECONFIG, else ~/.kube/config)
      --namespace NS             control-plane namespace: of the reader Role here
                                 (default istio-system)
      --secret-namespace NS      namespace of the printed Secret (default
                                 globalsvc-remotes, the chart's; an install that
                                 keeps them in istio-system says so in its NOTES)
      --reader-namespace NS      namespace of the reader ServiceAccount
                                 (default istio-system)
      --service-account NAME     the reader ServiceAccount (default globalsvc-reader)
      --reader-role NAME         the chart's reader ClusterRole and Role
                                 (default globalsvc-reader, the chart's for release
                                 globalsvc)
      --create-service-account   create the ServiceAccount and its bindings when
                                 missing
      --server URL               API server URL the other clusters use (default: the
                                 kubeconfig's)
      --timeout SECONDS          how long to wait for the token (default 30)

Exit code 0 when printed, 1 when the cluster refused or the token did not
appear, 2 on usage errors.
)";

constexpr const char* kFieldManager = "globalsvc-remote-secret";

// RBAC resources are only used here, so they are not in lib/kube's list.
const kube::ResourceType kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles", false};
const kube::ResourceType kClusterRoleBindings{"rbac.authorization.k8s.io", "v1",
                                              "clusterrolebindings", false};
const kube::ResourceType kRoles{"rbac.authorization.k8s.io", "v1", "roles", true};
const kube::ResourceType kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings", true};

// Lowercase alphanumerics and `extra`, starting and ending with an
// alphanumeric (plain loops: no std::regex, which recurses per character).
bool IsDnsName(const std::string& text, std::size_t max_size, std::string_view extra) {
  const auto alphanumeric = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (text.empty() || text.size() > max_size) return false;
  if (!alphanumeric(text.front()) || !alphanumeric(text.back())) return false;
  for (const char c : text) {
    if (!alphanumeric(c) && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool IsDnsLabel(const std::string& text) {
  return IsDnsName(text, 63, "-");
}

// Names of RBAC objects and ServiceAccounts: DNS subdomains.
bool IsDnsSubdomain(const std::string& text) {
  return IsDnsName(text, 253, "-.");
}

json Labels() {
  return {{"app.kubernetes.io/part-of", "globalsvc"}};
}

json Subject(const ReaderIdentity& reader) {
  return json::array({{{"kind", "ServiceAccount"},
                       {"name", reader.service_account},
                       {"namespace", reader.service_account_namespace}}});
}

// The token Secret of a ServiceAccount, once the token controller filled it in.
struct TokenSecret {
  std::string token;
  std::string ca_pem;
};

std::string DataField(const json& secret, const char* key) {
  const auto data = secret.find("data");
  if (data == secret.end() || !data->is_object()) return {};
  const auto value = data->find(key);
  if (value == data->end() || !value->is_string()) return {};
  return kube::DecodeBase64(value->get<std::string>()).value_or("");
}

std::string AnnotationOf(const json& object, const char* key) {
  const json* annotations = nullptr;
  if (auto metadata = object.find("metadata"); metadata != object.end()) {
    if (auto it = metadata->find("annotations"); it != metadata->end() && it->is_object())
      annotations = &*it;
  }
  if (annotations == nullptr) return {};
  const auto value = annotations->find(key);
  return value != annotations->end() && value->is_string() ? value->get<std::string>() : "";
}

// Runs against the remote cluster; progress goes to `err`, never a credential.
class RemoteSecretRun {
 public:
  RemoteSecretRun(kube::KubeClient& client, const ReaderIdentity& reader, std::ostream& err)
      : client_(client), reader_(reader), err_(err) {}

  Status EnsureReaderRolesExist() {
    if (auto role = client_.Get(kClusterRoles, "", reader_.reader_role); !role.ok()) {
      return Explain(role.error(), "ClusterRole " + reader_.reader_role,
                     "install the globalsvc chart in this cluster (its reader roles come with "
                     "every install), or name another ClusterRole and Role with --reader-role");
    }
    if (auto role = client_.Get(kRoles, reader_.control_plane_namespace, reader_.reader_role);
        !role.ok()) {
      return Explain(role.error(),
                     "Role " + reader_.control_plane_namespace + "/" + reader_.reader_role,
                     "install the globalsvc chart in this cluster, or pass --namespace / "
                     "--reader-role");
    }
    return Ok{};
  }

  Status EnsureServiceAccount(bool create) {
    const std::string what =
        "ServiceAccount " + reader_.service_account_namespace + "/" + reader_.service_account;
    auto existing = client_.Get(kube::resources::ServiceAccounts(),
                                reader_.service_account_namespace, reader_.service_account);
    if (existing.ok()) return Ok{};
    if (existing.error().code != ErrorCode::kNotFound || !create) {
      return Explain(existing.error(), what,
                     "install the globalsvc chart here with remoteReader.enabled=true, or pass "
                     "--create-service-account");
    }
    auto created =
        client_.Create(kube::resources::ServiceAccounts(), reader_.service_account_namespace,
                       ReaderObjects(reader_).service_account);
    if (!created.ok() && created.error().code != ErrorCode::kConflict) {
      return Explain(created.error(), "creating " + what, "");
    }
    err_ << "created " << what << "\n";
    return Ok{};
  }

  Status BindReaderRoles() {
    const ReaderObjectSet objects = ReaderObjects(reader_);
    const kube::ApplyOptions options{kFieldManager, false, ""};
    if (auto applied =
            client_.Apply(kClusterRoleBindings, "", objects.cluster_role_binding, options);
        !applied.ok()) {
      return Explain(applied.error(), "applying ClusterRoleBinding " + objects.binding_name, "");
    }
    if (auto applied = client_.Apply(kRoleBindings, reader_.control_plane_namespace,
                                     objects.role_binding, options);
        !applied.ok()) {
      return Explain(
          applied.error(),
          "applying RoleBinding " + reader_.control_plane_namespace + "/" + objects.binding_name,
          "");
    }
    err_ << "bound " << reader_.service_account_namespace << "/" << reader_.service_account
         << " to ClusterRole and Role " << reader_.reader_role << "\n";
    return Ok{};
  }

  // The long-lived token of the ServiceAccount: its <sa>-token Secret, created
  // when missing, polled until the token controller has filled it in.
  Result<TokenSecret> WaitForToken(std::chrono::seconds timeout) {
    const ReaderObjectSet objects = ReaderObjects(reader_);
    const std::string name = objects.token_secret_name;
    const std::string what = "Secret " + reader_.service_account_namespace + "/" + name;
    auto secret = client_.Get(kube::resources::Secrets(), reader_.service_account_namespace, name);
    if (!secret.ok() && secret.error().code == ErrorCode::kNotFound) {
      auto created = client_.Create(kube::resources::Secrets(), reader_.service_account_namespace,
                                    objects.token_secret);
      if (!created.ok() && created.error().code != ErrorCode::kConflict) {
        return Explain(created.error(), "creating " + what, "").error();
      }
      err_ << "created " << what << "\n";
    } else if (!secret.ok()) {
      return Explain(secret.error(), what, "").error();
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      secret = client_.Get(kube::resources::Secrets(), reader_.service_account_namespace, name);
      if (!secret.ok() && !secret.error().retryable())
        return Explain(secret.error(), what, "").error();
      if (secret.ok()) {
        if (secret->value("type", "") != "kubernetes.io/service-account-token" ||
            AnnotationOf(*secret, "kubernetes.io/service-account.name") !=
                reader_.service_account) {
          return MakeError(ErrorCode::kInvalidInput,
                           what + " exists but is not the token Secret of ServiceAccount " +
                               reader_.service_account + "; delete it or pick another name");
        }
        TokenSecret token{DataField(*secret, "token"), DataField(*secret, "ca.crt")};
        if (!token.token.empty()) return token;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return MakeError(ErrorCode::kUnavailable,
                         "the token controller did not fill in " + what + " within " +
                             std::to_string(timeout.count()) +
                             "s (is kube-controller-manager running with its "
                             "serviceaccount-token controller?)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

 private:
  Status Explain(const Error& error, const std::string& what, const std::string& hint) {
    std::string message = what + ": " + error.message;
    if (error.code == ErrorCode::kNotFound && !hint.empty()) message += "\n  hint: " + hint;
    if (error.code == ErrorCode::kForbidden) {
      message +=
          "\n  hint: the identity of --context needs to read (and with "
          "--create-service-account create) ServiceAccounts, Secrets and RBAC bindings";
    }
    return Error{error.code, message};
  }

  kube::KubeClient& client_;
  const ReaderIdentity& reader_;
  std::ostream& err_;
};

bool IsLoopbackServer(const std::string& server) {
  for (const char* prefix : {"https://127.", "https://localhost", "https://[::1]"}) {
    if (server.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

bool ParseSeconds(const std::string& text, int& out) {
  if (text.empty() || text.size() > 6 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  out = std::stoi(text);
  return out > 0;
}

}  // namespace

ReaderObjectSet ReaderObjects(const ReaderIdentity& reader) {
  ReaderObjectSet set;
  // One binding name per (role, ServiceAccount), distinct from the chart's own
  // <fullname>-reader bindings so the two never fight over one object.
  set.binding_name =
      reader.reader_role + ":" + reader.service_account_namespace + ":" + reader.service_account;
  set.token_secret_name = reader.service_account + "-token";
  set.service_account = {{"apiVersion", "v1"},
                         {"kind", "ServiceAccount"},
                         {"metadata",
                          {{"name", reader.service_account},
                           {"namespace", reader.service_account_namespace},
                           {"labels", Labels()}}}};
  set.token_secret = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"type", "kubernetes.io/service-account-token"},
      {"metadata",
       {{"name", set.token_secret_name},
        {"namespace", reader.service_account_namespace},
        {"labels", Labels()},
        {"annotations", {{"kubernetes.io/service-account.name", reader.service_account}}}}}};
  set.cluster_role_binding = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                              {"kind", "ClusterRoleBinding"},
                              {"metadata", {{"name", set.binding_name}, {"labels", Labels()}}},
                              {"roleRef",
                               {{"apiGroup", "rbac.authorization.k8s.io"},
                                {"kind", "ClusterRole"},
                                {"name", reader.reader_role}}},
                              {"subjects", Subject(reader)}};
  set.role_binding = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata",
       {{"name", set.binding_name},
        {"namespace", reader.control_plane_namespace},
        {"labels", Labels()}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", reader.reader_role}}},
      {"subjects", Subject(reader)}};
  return set;
}

Result<json> BuildRemoteKubeconfig(const RemoteAccess& access) {
  if (!IsDnsLabel(access.cluster_name)) {
    return MakeError(ErrorCode::kInvalidInput,
                     "cluster name '" + access.cluster_name +
                         "' is not a DNS label (lowercase letters, digits and '-', at most 63)");
  }
  if (access.server.rfind("https://", 0) != 0 || access.server.size() <= 8) {
    return MakeError(ErrorCode::kInvalidInput,
                     "server '" + access.server + "' is not an https:// URL");
  }
  if (access.token.empty()) return MakeError(ErrorCode::kInvalidInput, "the token is empty");
  // The Secret always verifies the server: the controller refuses
  // insecure-skip-tls-verify in kubeconfigs from Secrets.
  if (access.certificate_authority_pem.empty()) {
    return MakeError(ErrorCode::kInvalidInput,
                     "no certificate authority for " + access.server +
                         ": the kubeconfig has none and the token Secret has no ca.crt");
  }
  if (!access.certificate_authority_pem.empty() &&
      !kube::IsCertificatePem(access.certificate_authority_pem)) {
    return MakeError(ErrorCode::kInvalidInput, "the certificate authority is not PEM certificates");
  }
  json cluster = {{"server", access.server}};
  if (!access.certificate_authority_pem.empty()) {
    cluster["certificate-authority-data"] = kube::EncodeBase64(access.certificate_authority_pem);
  }
  if (!access.tls_server_name.empty()) cluster["tls-server-name"] = access.tls_server_name;
  const std::string& name = access.cluster_name;
  return json{{"apiVersion", "v1"},
              {"kind", "Config"},
              {"clusters", json::array({{{"name", name}, {"cluster", cluster}}})},
              {"users", json::array({{{"name", name}, {"user", {{"token", access.token}}}}})},
              {"contexts",
               json::array({{{"name", name}, {"context", {{"cluster", name}, {"user", name}}}}})},
              {"current-context", name},
              {"preferences", json::object()}};
}

Result<json> BuildRemoteSecret(const RemoteAccess& access, const std::string& secret_namespace) {
  if (!IsDnsLabel(secret_namespace)) {
    return MakeError(ErrorCode::kInvalidInput,
                     "namespace '" + secret_namespace + "' is not a DNS label");
  }
  auto kubeconfig = BuildRemoteKubeconfig(access);
  if (!kubeconfig.ok()) return kubeconfig.error();
  return json{
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"type", "Opaque"},
      {"metadata",
       {{"name", controller::kRemoteSecretNamePrefix + access.cluster_name},
        {"namespace", secret_namespace},
        {"labels",
         {{controller::kRemoteSecretLabel, "true"}, {"app.kubernetes.io/part-of", "globalsvc"}}}}},
      {"data", {{access.cluster_name, kube::EncodeBase64(EmitYaml(*kubeconfig))}}}};
}

int RunRemoteSecret(const std::vector<std::string>& args, CommandIo io) {
  FlagSpec spec{
      {"--name", "--context", "--kubeconfig", "--namespace", "--secret-namespace",
       "--reader-namespace", "--service-account", "--reader-role", "--server", "--timeout"},
      {"--create-service-account", "--help", "-h"}};
  auto flags = ParseFlags(args, spec);
  const auto usage = [&](const std::string& message) {
    io.err << "globalsvc remote-secret: " << message << "\n\n" << kRemoteSecretUsage;
    return kExitUsage;
  };
  if (!flags.ok()) return usage(flags.error().message);
  if (flags->Has("--help") || flags->Has("-h")) {
    io.out << kRemoteSecretUsage;
    return kExitOk;
  }
  if (!flags->positional().empty()) return usage("takes no positional arguments");
  const auto name = flags->Get("--name");
  if (!name) return usage("needs --name CLUSTER");
  if (!IsDnsLabel(*name)) return usage("--name '" + *name + "' is not a DNS label");

  ReaderIdentity reader;
  reader.control_plane_namespace = flags->GetOr("--namespace", mesh::kDefaultControlPlaneNamespace);
  reader.service_account_namespace =
      flags->GetOr("--reader-namespace", mesh::kDefaultControlPlaneNamespace);
  reader.service_account = flags->GetOr("--service-account", "globalsvc-reader");
  reader.reader_role = flags->GetOr("--reader-role", "globalsvc-reader");
  const std::string secret_namespace =
      flags->GetOr("--secret-namespace", controller::kDefaultRemoteSecretNamespace);
  for (const auto& [flag, value] :
       {std::pair{"--namespace", reader.control_plane_namespace},
        std::pair{"--reader-namespace", reader.service_account_namespace},
        std::pair{"--secret-namespace", secret_namespace}}) {
    if (!IsDnsLabel(value)) return usage(std::string(flag) + " '" + value + "' is not a DNS label");
  }
  for (const auto& [flag, value] : {std::pair{"--service-account", reader.service_account},
                                    std::pair{"--reader-role", reader.reader_role}}) {
    if (!IsDnsSubdomain(value)) return usage(std::string(flag) + " '" + value + "' is not valid");
  }
  int timeout_seconds = 30;
  if (auto text = flags->Get("--timeout"); text && !ParseSeconds(*text, timeout_seconds)) {
    return usage("--timeout takes a positive number of seconds");
  }
  const auto server_flag = flags->Get("--server");
  if (server_flag && server_flag->rfind("https://", 0) != 0) {
    return usage("--server must be an https:// URL");
  }

  const auto fail = [&](const std::string& message) {
    io.err << "globalsvc remote-secret: " << message << "\n";
    return kExitFindings;
  };
  auto cluster =
      kube::LoadKubeconfig(flags->GetOr("--kubeconfig", ""), flags->GetOr("--context", ""));
  if (!cluster.ok()) return fail(cluster.error().message);
  if (cluster->insecure_skip_tls_verify && cluster->certificate_authority_pem.empty()) {
    // The CA would come from the token Secret, read over a connection whose
    // server was never verified: whoever answered could hand out its own.
    return fail(
        "the kubeconfig skips TLS verification (insecure-skip-tls-verify) and names no "
        "certificate authority, so no CA read through it can be trusted; use a "
        "kubeconfig with certificate-authority-data for " +
        cluster->server);
  }
  auto client = kube::KubeClient::Create(*cluster);
  if (!client.ok()) return fail(client.error().message);

  RemoteSecretRun run(**client, reader, io.err);
  const bool create = flags->Has("--create-service-account");
  if (create) {
    if (auto status = run.EnsureReaderRolesExist(); !status.ok()) {
      return fail(status.error().message);
    }
  }
  if (auto status = run.EnsureServiceAccount(create); !status.ok()) {
    return fail(status.error().message);
  }
  if (create) {
    if (auto status = run.BindReaderRoles(); !status.ok()) return fail(status.error().message);
  }
  auto token = run.WaitForToken(std::chrono::seconds(timeout_seconds));
  if (!token.ok()) return fail(token.error().message);

  RemoteAccess access;
  access.cluster_name = *name;
  access.server = server_flag.value_or(cluster->server);
  // The kubeconfig's CA is what the caller already trusts for this server;
  // the token Secret's ca.crt (the cluster's root CA) when it names none.
  access.certificate_authority_pem = !cluster->certificate_authority_pem.empty()
                                         ? cluster->certificate_authority_pem
                                         : token->ca_pem;
  access.tls_server_name = cluster->tls_server_name;
  access.token = std::move(token->token);
  auto secret = BuildRemoteSecret(access, secret_namespace);
  if (!secret.ok()) return fail(secret.error().message);
  if (!server_flag && IsLoopbackServer(access.server)) {
    io.err << "note: the server " << access.server
           << " is a loopback address: the other clusters' controllers must reach it there "
              "(else pass --server)\n";
  }
  io.out << EmitYaml(*secret);
  io.err << "printed Secret " << secret_namespace << "/" << controller::kRemoteSecretNamePrefix
         << *name << ": apply it in every other cluster\n";
  return kExitOk;
}

}  // namespace globalsvc::cli
