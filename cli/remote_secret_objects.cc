// remote-secret, the parts without I/O (declared in commands.h): the reader's
// objects in the remote cluster, and the kubeconfig and Secret that the other
// clusters' controllers read it with.

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/dns_names.h"
#include "controller/remote_secret_labels.h"
#include "lib/base/yaml_json.h"
#include "lib/kube/pem.h"

namespace globalsvc::cli {
namespace {

using nlohmann::json;

json Labels() {
  return {{"app.kubernetes.io/part-of", "globalsvc"}};
}

json Subject(const ReaderIdentity& reader) {
  return json::array({{{"kind", "ServiceAccount"},
                       {"name", reader.service_account},
                       {"namespace", reader.service_account_namespace}}});
}

json ClusterRoleBinding(const ReaderIdentity& reader, const std::string& binding_name) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "ClusterRoleBinding"},
          {"metadata", {{"name", binding_name}, {"labels", Labels()}}},
          {"roleRef",
           {{"apiGroup", "rbac.authorization.k8s.io"},
            {"kind", "ClusterRole"},
            {"name", reader.reader_role}}},
          {"subjects", Subject(reader)}};
}

json RoleBinding(const ReaderIdentity& reader, const std::string& binding_name) {
  return {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata",
       {{"name", binding_name},
        {"namespace", reader.control_plane_namespace},
        {"labels", Labels()}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", reader.reader_role}}},
      {"subjects", Subject(reader)}};
}

// The refusals of BuildRemoteKubeconfig, checked before anything is built.
Status CheckRemoteAccess(const RemoteAccess& access) {
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
  if (!kube::IsCertificatePem(access.certificate_authority_pem)) {
    return MakeError(ErrorCode::kInvalidInput, "the certificate authority is not PEM certificates");
  }
  return Ok{};
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
  set.cluster_role_binding = ClusterRoleBinding(reader, set.binding_name);
  set.role_binding = RoleBinding(reader, set.binding_name);
  return set;
}

Result<json> BuildRemoteKubeconfig(const RemoteAccess& access) {
  if (auto status = CheckRemoteAccess(access); !status.ok()) return status.error();
  json cluster = {{"server", access.server}};
  cluster["certificate-authority-data"] = kube::EncodeBase64(access.certificate_authority_pem);
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

}  // namespace globalsvc::cli
