#pragma once

// RemoteClusters: connects, reconnects and disconnects remote clusters from
// the Secrets labelled globalsvc.solo.io/remote-cluster=true in the
// controller's namespace (one kubeconfig per data key; the key is the cluster
// name), as they change.
//
// - Secrets labelled istio/multiCluster=true, the label globalsvc used first,
//   are still read until they are relabelled, with a warning: istiod watches
//   that label too and would try its own multicluster with our read-only
//   identity. A cluster named by both kinds comes from the new one.
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
#include "controller/event_sink.h"
#include "controller/namespace_filter.h"
#include "controller/remote_secret_labels.h"
#include "controller/remote_secret_reading.h"
#include "lib/base/log.h"
#include "lib/kube/cache.h"
#include "lib/kube/reflector_sink.h"

namespace globalsvc::controller {

enum class SecretLabel { kOwn, kLegacy };

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

// The health a remote is reported with: nothing known without a connection,
// and a Secret whose kubeconfig cannot be used has that as its last error.
[[nodiscard]] ClusterHealth ReportedHealth(const RemoteClusterStatus& remote);

// What the rest of the controller reads of the remote clusters: each one's
// connection and health, and the problems of their Secrets. The health loop
// depends on this view only, so unit tests give it a table in memory.
class RemoteClusterView {
 public:
  virtual ~RemoteClusterView() = default;
  [[nodiscard]] virtual std::vector<RemoteClusterStatus> Status() const = 0;
  // Every current problem of the Secrets, so that they can be reported again
  // (by a new leader, or after Events expire) until they are fixed.
  [[nodiscard]] virtual std::vector<SecretProblem> Problems() const = 0;
};

class RemoteClusters final : public RemoteClusterView {
 public:
  // `template_options` carries everything but cluster and config. With
  // `read_legacy_label`, synced() also waits for the legacy Secrets' list.
  RemoteClusters(std::string local_cluster, ClusterConnectionOptions template_options,
                 ControllerMetrics& metrics, EventSink* events, std::string secret_namespace,
                 bool read_legacy_label = true);
  ~RemoteClusters() override;
  RemoteClusters(const RemoteClusters&) = delete;
  RemoteClusters& operator=(const RemoteClusters&) = delete;

  // What a reflector of the Secrets with `label` feeds.
  [[nodiscard]] kube::ReflectorSink& sink(SecretLabel label);

  [[nodiscard]] bool synced() const;
  [[nodiscard]] std::vector<RemoteClusterStatus> Status() const override;
  [[nodiscard]] std::vector<SecretProblem> Problems() const override;
  void StopAll();

 private:
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
  // Connects `cluster` as `source` says, unless it already is: a new
  // connection replaces the old one only once it runs; one that cannot be
  // made leaves the old one in place.
  void Apply(const std::string& cluster, const RemoteSource& source);
  Result<std::unique_ptr<ClusterConnection>> Connect(const std::string& cluster,
                                                     const RemoteSource& source);
  void Disconnect(const std::string& cluster);
  // Log line, metric and Warning Event on the Secret.
  void ReportSecretProblem(const SecretProblem& problem);

  const std::string local_cluster_;
  const ClusterConnectionOptions template_;
  ControllerMetrics& metrics_;
  EventSink* events_;
  const std::string secret_namespace_;
  const bool read_legacy_label_;
  Logger log_;
  // The Secrets of each label, as their reflectors last reported them; any
  // change brings the connections in line (Reconcile).
  kube::Cache<RemoteSecretView> own_secrets_{ViewOfRemoteSecret};
  kube::Cache<RemoteSecretView> legacy_secrets_{ViewOfRemoteSecret};

  mutable std::mutex mutex_;
  std::map<std::string, Remote> remotes_;  // cluster -> connection
  // Problems found in the Secrets' keys by the last Reconcile() (those of a
  // kubeconfig live in Remote::config_error).
  std::vector<SecretProblem> key_problems_;
  std::uint64_t next_generation_ = 1;
};

}  // namespace globalsvc::controller
