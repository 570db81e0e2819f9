// LoadInClusterConfig (kubeconfig.h): the pod's service account, as
// client-go's rest.InClusterConfig reads it.

#include <cstdlib>

#include "lib/kube/kubeconfig.h"
#include "lib/kube/kubeconfig_document.h"
#include "lib/kube/pem.h"
#include "lib/kube/server_url.h"

namespace globalsvc::kube {

using kubeconfig::FieldError;
using kubeconfig::ReadFile;

Result<ClusterConfig> LoadInClusterConfig(const InClusterSource& source) {
  std::string host = source.host;
  std::string port = source.port;
  if (host.empty()) {
    const char* env_host = std::getenv("KUBERNETES_SERVICE_HOST");
    const char* env_port = std::getenv("KUBERNETES_SERVICE_PORT");
    if (env_host == nullptr || *env_host == '\0' || env_port == nullptr || *env_port == '\0') {
      return MakeError(ErrorCode::kInvalidInput,
                       "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                       "must be set (not running in a pod?)");
    }
    host = env_host;
    port = env_port;
  }
  ClusterConfig config;
  config.name = "in-cluster";
  config.source = "in-cluster config " + source.service_account_dir;
  const bool ipv6 = host.find(':') != std::string::npos;
  config.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
  if (auto url = ParseServerUrl(config.server); !url.ok()) {
    return FieldError(config.source, "KUBERNETES_SERVICE_HOST/PORT", url.error().message);
  }
  const std::string token_path = source.service_account_dir + "/token";
  if (auto token = ReadFile(token_path); !token.ok()) {
    return FieldError(config.source, "token", "cannot read " + token_path);
  }
  config.auth.token_file = token_path;
  auto ca = ReadFile(source.service_account_dir + "/ca.crt");
  if (!ca.ok() || !IsCertificatePem(*ca)) {
    return FieldError(config.source, "ca.crt", "missing or holds no PEM certificate");
  }
  config.certificate_authority_pem = std::move(*ca);
  if (auto ns = ReadFile(source.service_account_dir + "/namespace"); ns.ok()) {
    std::string value = *ns;
    while (!value.empty() && (value.back() == '\n' || value.back() == ' '))
      value.pop_back();
    config.namespace_name = value;
  }
  return config;
}

}  // namespace globalsvc::kube
