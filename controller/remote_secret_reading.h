#pragma once

// From the labelled remote Secrets to the clusters they ask to connect, and
// the problems of the keys that cannot be used. Pure: RemoteClusters connects
// what this decides.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "controller/namespace_filter.h"

namespace globalsvc::controller {

// On a remote Secret: the network of the clusters it connects, whatever their
// own istio-system label says (a remote cannot then claim another network,
// ours included, and have its pods taken as directly reachable).
inline constexpr const char* kNetworkAnnotation = "globalsvc.solo.io/network";
// On a remote Secret: comma-separated namespaces of the clusters it connects
// whose Services may be global here (absent: all), and namespaces whose
// Services never are. Either one that does not parse makes the Secret ignored.
inline constexpr const char* kNamespacesAnnotation = "globalsvc.solo.io/namespaces";
inline constexpr const char* kExcludeNamespacesAnnotation = "globalsvc.solo.io/exclude-namespaces";

// A cluster name (a Secret's data key) becomes an object name
// (RemoteCluster) and a metric label: a DNS-1123 subdomain.
[[nodiscard]] bool IsValidClusterName(std::string_view name);
// A Kubernetes label value (the network names the topology.istio.io/network
// label carries).
[[nodiscard]] bool IsValidLabelValue(std::string_view value);

// A remote Secret that cannot (fully) be used, as long as it stays so.
struct SecretProblem {
  std::string secret;
  std::string reason;  // the globalsvc_remote_secret_errors_total label
  std::string message;
};

// What is kept of a remote Secret: its data and the annotations read above.
struct RemoteSecretView {
  nlohmann::json data;
  std::string network;
  std::string namespaces;          // kNamespacesAnnotation
  std::string exclude_namespaces;  // kExcludeNamespacesAnnotation
  bool operator==(const RemoteSecretView&) const = default;
};
[[nodiscard]] RemoteSecretView ViewOfRemoteSecret(const nlohmann::json& object);

// One cluster to connect, and where it comes from.
struct RemoteSource {
  std::string secret;
  std::string kubeconfig;  // the text; compared to detect rotation
  std::string network;     // kNetworkAnnotation, "" when absent
  NamespaceFilter namespaces;
};

struct DesiredRemotes {
  std::map<std::string, RemoteSource> clusters;  // by cluster name
  std::vector<SecretProblem> problems;
};

// Secrets by name. Own-labelled Secrets come first, each set in name order,
// so a cluster named twice deterministically comes from the first; a Secret
// with both labels is read once. `local_cluster` is never connected.
[[nodiscard]] DesiredRemotes ReadDesiredRemotes(
    const std::map<std::string, RemoteSecretView>& own_label,
    const std::map<std::string, RemoteSecretView>& legacy_label, const std::string& local_cluster);

}  // namespace globalsvc::controller
