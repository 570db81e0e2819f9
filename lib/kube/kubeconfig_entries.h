#pragma once

// A kubeconfig's cluster and user entries read into the client's
// configuration: server, CA, TLS settings, and credentials (token, client
// certificate, exec plugin), each file path resolved against the file that
// named it.

#include <string>

#include "lib/base/result.h"
#include "lib/kube/kubeconfig.h"
#include "lib/kube/kubeconfig_document.h"

namespace globalsvc::kube::kubeconfig {

[[nodiscard]] Status LoadCluster(const NamedEntry& entry, const std::string& name,
                                 ClusterConfig& config);
[[nodiscard]] Status LoadUser(const NamedEntry& entry, const std::string& name, AuthConfig& auth);

}  // namespace globalsvc::kube::kubeconfig
