#pragma once

// RemoteClusters: connects, reconnects and disconnects remote clusters from
// the Secrets labelled istio/multiCluster=true in the controller's namespace
// (one kubeconfig per data key; the key is the cluster name), as they change.
//
// - A new kubeconfig connects the cluster; a changed one (rotation) connects
//   anew and only then stops the old connection; the cluster's state is kept
//   throughout, so endpoints never disappear during a rotation.
// - A kubeconfig that cannot be used (malformed, missing context, bad
//   certificate data) is reported and the cluster keeps its previous
//   connection, if any: a bad edit never removes capacity. Fixing the Secret
//   recovers without a restart.
// - A data key that disappears (or its whole Secret) disconnects the cluster
//   and removes its endpoints.
//
// Threads: the Secret reflector's thread drives Reconcile(); Health() and
// Clusters() may be called from any thread.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "controller/cluster_connection.h"
#include "controller/controller_metrics.h"
#include "controller/event_recorder.h"
#include "controller/namespace_filter.h"
#include "lib/kube/reflector_sink.h"

namespace spdlog {
class logger;
}

namespace globalsvc::controller {

inline constexpr const char* kMultiClusterLabel = "istio/multiCluster";
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

struct RemoteClusterStatus {
  std::string cluster;
  std::string secret;
  bool connected = false;  // a connection exists
  ClusterHealth health;
  std::string config_error;  // the Secret's current kubeconfig could not be used
  // Changes with every new connection (rotation, re-adding), whose error
  // count starts again at 0.
  std::uint64_t connection_generation = 0;
};

// A remote Secret that cannot (fully) be used, as long as it stays so.
struct SecretProblem {
  std::string secret;
  std::string reason;  // the globalsvc_remote_secret_errors_total label
  std::string message;
};

class RemoteClusters final : public kube::ReflectorSink {
 public:
  // `template_options` carries everything but cluster and config.
  RemoteClusters(std::string local_cluster, ClusterConnectionOptions template_options,
                 ControllerMetrics& metrics, EventRecorder* events, std::string secret_namespace);
  ~RemoteClusters() override;

  void BeginReplace() override;
  void ReplaceItem(nlohmann::json&& object) override;
  void EndReplace() override;
  void AbortReplace() override;
  void ApplyEvent(kube::WatchEventType type, nlohmann::json&& object) override;

  [[nodiscard]] bool synced() const;
  [[nodiscard]] std::vector<RemoteClusterStatus> Status() const;
  // Every current problem of the Secrets, so that they can be reported again
  // (by a new leader, or after Events expire) until they are fixed.
  [[nodiscard]] std::vector<SecretProblem> Problems() const;
  void StopAll();

 private:
  struct Source {
    std::string secret;
    std::string kubeconfig;  // the text; compared to detect rotation
    std::string network;     // kNetworkAnnotation, "" when absent
    NamespaceFilter namespaces;
  };
  struct SecretView {
    nlohmann::json data;
    std::string network;
    std::string namespaces;          // kNamespacesAnnotation
    std::string exclude_namespaces;  // kExcludeNamespacesAnnotation
  };
  static SecretView ViewOf(const nlohmann::json& object);
  struct Remote {
    std::string secret;
    std::string kubeconfig;  // what the connection was made from
    std::string network;     // the pinned network it was made with
    NamespaceFilter namespaces;
    std::unique_ptr<ClusterConnection> connection;
    std::uint64_t generation = 0;
    std::string config_error;
  };

  // Brings connections in line with the Secrets seen so far.
  void Reconcile();
  void Disconnect(const std::string& cluster);
  // Log line, metric and Warning Event on the Secret.
  void ReportSecretProblem(const SecretProblem& problem);

  const std::string local_cluster_;
  const ClusterConnectionOptions template_;
  ControllerMetrics& metrics_;
  EventRecorder* events_;
  const std::string secret_namespace_;
  std::shared_ptr<spdlog::logger> log_;

  mutable std::mutex mutex_;
  std::map<std::string, SecretView> secrets_;  // by name
  std::map<std::string, SecretView> listing_;
  bool replacing_ = false;
  bool synced_ = false;
  std::map<std::string, Remote> remotes_;  // cluster -> connection
  // Problems found in the Secrets' keys by the last Reconcile() (those of a
  // kubeconfig live in Remote::config_error).
  std::vector<SecretProblem> key_problems_;
  std::uint64_t next_generation_ = 1;
};

}  // namespace globalsvc::controller
