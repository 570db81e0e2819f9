#pragma once

// Runs a client.authentication.k8s.io exec credential plugin (as cloud
// clusters use) and reads the ExecCredential it prints.

#include <chrono>
#include <optional>
#include <string>

#include "lib/base/result.h"
#include "lib/kube/kubeconfig.h"

namespace globalsvc::kube {

struct ExecCredential {
  std::string token;
  std::string client_certificate_pem;
  std::string client_key_pem;
  // Absent: valid until the server rejects it.
  std::optional<std::chrono::system_clock::time_point> expiration;
};

// Runs the plugin with KUBERNETES_EXEC_INFO set (with the cluster's details
// when provideClusterInfo is set), no stdin, and a deadline. Errors carry the
// plugin's exit status and the start of its stderr, never its stdout (which
// holds the credential).
[[nodiscard]] Result<ExecCredential> RunExecPlugin(const ExecPluginConfig& plugin,
                                                   const ClusterConfig& cluster,
                                                   std::chrono::milliseconds timeout);

// Parses the plugin's stdout; exposed for tests.
[[nodiscard]] Result<ExecCredential> ParseExecCredential(std::string_view output,
                                                         std::string_view expected_api_version);

}  // namespace globalsvc::kube
