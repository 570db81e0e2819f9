#pragma once

// Kubeconfig and in-cluster configuration: where a cluster is and how to
// authenticate to it. Loading resolves every file reference and inline field to
// bytes, so the result is self-contained (except token files and exec plugins,
// which are re-read or re-run later on purpose). Errors name the file and the
// field that is wrong, never a credential.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace globalsvc::kube {

// users[].user.exec: a credential plugin (client.authentication.k8s.io/v1).
struct ExecPluginConfig {
  std::string command;  // resolved against the kubeconfig's folder when it has a '/'
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string api_version;
  bool provide_cluster_info = false;
  std::string install_hint;
};

struct AuthConfig {
  std::string token;       // never logged
  std::string token_file;  // re-read on rotation
  std::string client_certificate_pem;
  std::string client_key_pem;  // never logged
  std::optional<ExecPluginConfig> exec;
};

struct ClusterConfig {
  std::string name;    // the context name (the cluster's name for in-cluster config)
  std::string source;  // where it came from, for messages ("kubeconfig /path")
  std::string server;  // https://host[:port][/prefix]
  std::string certificate_authority_pem;
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string namespace_name;  // the context's namespace, may be empty
  AuthConfig auth;
};

// Who wrote a kubeconfig decides what it may ask of the process reading it.
enum class KubeconfigTrust {
  // A file the operator chose: it may name local files and run exec plugins.
  kOperatorFile,
  // Data from the cluster (a remote Secret), written by anyone allowed to write
  // Secrets there: everything must be inline, and it may neither read the
  // controller's files (its own token), run commands, nor turn TLS
  // verification off.
  kClusterData,
};

// Parses one kubeconfig document. `base_dir` resolves relative file paths;
// `source` names the kubeconfig in errors. An empty `context` selects
// current-context.
[[nodiscard]] Result<ClusterConfig> ParseKubeconfig(
    std::string_view text, std::string_view source, std::string_view base_dir,
    std::string_view context = {}, KubeconfigTrust trust = KubeconfigTrust::kOperatorFile);

// Loads and merges kubeconfig files the way kubectl does: for each named
// cluster, user and context the first file that defines it wins, and so does
// the first current-context.
[[nodiscard]] Result<ClusterConfig> LoadKubeconfigFiles(const std::vector<std::string>& paths,
                                                        std::string_view context = {});

// `explicit_path` if not empty, else $KUBECONFIG (a ':'-separated list), else
// ~/.kube/config.
[[nodiscard]] Result<ClusterConfig> LoadKubeconfig(std::string_view explicit_path,
                                                   std::string_view context = {});

// Where in-cluster configuration comes from; the defaults are a pod's.
struct InClusterSource {
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  // Empty: read KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT.
  std::string host;
  std::string port;
};

// The pod's service account: token (as a token file, re-read on rotation), CA
// and namespace.
[[nodiscard]] Result<ClusterConfig> LoadInClusterConfig(const InClusterSource& source = {});

}  // namespace globalsvc::kube
