#pragma once

// The globalsvc subcommands. Each takes its arguments (after the subcommand
// name) and returns the process exit code: 0 ok, 1 findings or errors the
// user must act on, 2 usage errors.

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/failover/failover_input.h"
#include "lib/mesh/model.h"

namespace globalsvc::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;

struct CommandIo {
  std::ostream& out;
  std::ostream& err;
};

int RunVersion(const std::vector<std::string>& args, CommandIo io);
int RunController(const std::vector<std::string>& args, CommandIo io);
int RunPlan(const std::vector<std::string>& args, CommandIo io);
int RunExplain(const std::vector<std::string>& args, CommandIo io);
int RunLint(const std::vector<std::string>& args, CommandIo io);
int RunRemoteSecret(const std::vector<std::string>& args, CommandIo io);

// Reads the -f arguments of explain and lint: a file, CLUSTER=FILE, or a folder
// whose subfolders are clusters (files directly inside belong to no cluster).
[[nodiscard]] Result<std::vector<failover::SourcedObject>> LoadObjectFiles(
    const std::vector<std::string>& paths);

// remote-secret, the parts without I/O.

// The reader identity in a remote cluster, bound to the chart's reader
// ClusterRole and Role (the Role lives in the control-plane namespace).
struct ReaderIdentity {
  std::string service_account = "globalsvc-reader";
  std::string service_account_namespace = mesh::kDefaultControlPlaneNamespace;
  std::string reader_role = "globalsvc-reader";
  std::string control_plane_namespace = mesh::kDefaultControlPlaneNamespace;
};

// The objects remote-secret --create-service-account makes in the remote cluster.
struct ReaderObjectSet {
  std::string binding_name;       // of both the ClusterRoleBinding and the RoleBinding
  std::string token_secret_name;  // <service-account>-token
  nlohmann::json service_account;
  nlohmann::json token_secret;  // kubernetes.io/service-account-token
  nlohmann::json cluster_role_binding;
  nlohmann::json role_binding;
};
[[nodiscard]] ReaderObjectSet ReaderObjects(const ReaderIdentity& reader);

// How another cluster reaches this one. `token` is secret: it goes into the
// kubeconfig and nowhere else.
struct RemoteAccess {
  std::string cluster_name;  // the data key and the kubeconfig's names
  std::string server;        // https://...
  std::string certificate_authority_pem;
  std::string tls_server_name;
  std::string token;
};
// A kubeconfig with one cluster, one token user and one context, all named
// after the cluster. Errors: invalid name, non-https server, empty token,
// missing or unreadable CA.
[[nodiscard]] Result<nlohmann::json> BuildRemoteKubeconfig(const RemoteAccess& access);
// The globalsvc.solo.io/remote-cluster=true Secret globalsvc-remote-<cluster> in
// `secret_namespace`, the kubeconfig (YAML) base64 under the data key <cluster>.
[[nodiscard]] Result<nlohmann::json> BuildRemoteSecret(const RemoteAccess& access,
                                                       const std::string& secret_namespace);

}  // namespace globalsvc::cli
