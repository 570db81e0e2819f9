#include "controller/remote_clusters.h"

#include <spdlog/spdlog.h>

#include "lib/observability/logging.h"

namespace globalsvc::controller {
namespace {

SecretProblem KubeconfigProblem(const std::string& secret, const std::string& cluster,
                                const std::string& error) {
  return {secret, "invalid-kubeconfig", "cluster " + cluster + " cannot be connected: " + error};
}

}  // namespace

RemoteClusters::RemoteClusters(std::string local_cluster, ClusterConnectionOptions template_options,
                               ControllerMetrics& metrics, EventSink* events,
                               std::string secret_namespace, bool read_legacy_label)
    : local_cluster_(std::move(local_cluster)),
      template_(std::move(template_options)),
      metrics_(metrics),
      events_(events),
      secret_namespace_(std::move(secret_namespace)),
      read_legacy_label_(read_legacy_label),
      log_(obs::ComponentLogger("remote-clusters")) {
  // Once per list and once per event, not once per Secret of a list: each
  // run reports every current problem of the Secrets.
  for (auto* secrets : {&own_secrets_, &legacy_secrets_}) {
    secrets->AddBatchHandler([this](const auto&) { Reconcile(); });
  }
}

RemoteClusters::~RemoteClusters() {
  StopAll();
}

kube::ReflectorSink& RemoteClusters::sink(SecretLabel label) {
  return label == SecretLabel::kOwn ? own_secrets_ : legacy_secrets_;
}

bool RemoteClusters::synced() const {
  return own_secrets_.HasSynced() && (!read_legacy_label_ || legacy_secrets_.HasSynced());
}

namespace {

// The Secrets of one label by name (they all live in one namespace).
std::map<std::string, RemoteSecretView> SecretsByName(const kube::Cache<RemoteSecretView>& cache) {
  std::map<std::string, RemoteSecretView> secrets;
  for (const auto& [key, view] : cache.Items())
    secrets.emplace(std::string(kube::SplitObjectKey(key).name), *view);
  return secrets;
}

}  // namespace

void RemoteClusters::Reconcile() {
  DesiredRemotes desired;
  {
    std::lock_guard lock(mutex_);
    desired = ReadDesiredRemotes(SecretsByName(own_secrets_), SecretsByName(legacy_secrets_),
                                 local_cluster_);
    key_problems_ = desired.problems;
  }
  // Reported outside the lock: recording an Event is a request.
  for (const auto& problem : desired.problems)
    ReportSecretProblem(problem);

  // Disconnect clusters no Secret names any more.
  std::vector<std::string> gone;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [cluster, remote] : remotes_) {
      if (!desired.clusters.count(cluster)) gone.push_back(cluster);
    }
  }
  for (const auto& cluster : gone)
    Disconnect(cluster);

  for (const auto& [cluster, source] : desired.clusters)
    Apply(cluster, source);
}

Result<std::unique_ptr<ClusterConnection>> RemoteClusters::Connect(const std::string& cluster,
                                                                   const RemoteSource& source) {
  // The Secret is not a file: relative paths in it mean nothing.
  auto config =
      kube::ParseKubeconfig(source.kubeconfig, "secret " + source.secret + " key " + cluster, "",
                            {}, kube::KubeconfigTrust::kClusterData);
  if (!config.ok()) return config.error();
  ClusterConnectionOptions options = template_;
  options.cluster = cluster;
  options.config = std::move(*config);
  options.config.name = cluster;
  options.network_override = source.network;
  options.namespaces = source.namespaces;
  return ClusterConnection::Connect(std::move(options));
}

void RemoteClusters::Apply(const std::string& cluster, const RemoteSource& source) {
  {
    std::lock_guard lock(mutex_);
    auto it = remotes_.find(cluster);
    if (it != remotes_.end() && it->second.kubeconfig == source.kubeconfig &&
        it->second.network == source.network && it->second.namespaces == source.namespaces) {
      return;
    }
  }
  auto connection = Connect(cluster, source);
  std::unique_ptr<ClusterConnection> replaced;
  {
    std::lock_guard lock(mutex_);
    Remote& remote = remotes_[cluster];
    remote.secret = source.secret;
    remote.kubeconfig = source.kubeconfig;
    remote.network = source.network;
    remote.namespaces = source.namespaces;
    if (connection.ok()) {
      replaced = std::move(remote.connection);
      remote.connection = std::move(*connection);
      remote.generation = next_generation_++;
      remote.config_error.clear();
    } else {
      // Keep the previous connection (if any) and its endpoints.
      remote.config_error = connection.error().message;
    }
  }
  if (!connection.ok()) {
    ReportSecretProblem(KubeconfigProblem(source.secret, cluster, connection.error().message));
  } else {
    log_.Info(replaced ? "remote cluster reconnected" : "remote cluster connected",
              {{"cluster", cluster},
               {"secret", source.secret},
               {"pinned_network", source.network.empty() ? "-" : source.network},
               {"namespaces", source.namespaces.Describe()}});
  }
  if (replaced) replaced->Stop();  // after the new one runs: state is never dropped
}

void RemoteClusters::Disconnect(const std::string& cluster) {
  std::unique_ptr<ClusterConnection> connection;
  {
    std::lock_guard lock(mutex_);
    auto it = remotes_.find(cluster);
    if (it == remotes_.end()) return;
    connection = std::move(it->second.connection);
    remotes_.erase(it);
  }
  if (connection) connection->Stop();
  // Its endpoints leave every ServiceEntry they were in.
  auto keys = template_.store->ServiceKeys(cluster);
  template_.store->RemoveCluster(cluster);
  metrics_.cluster_connected.Remove({cluster});
  metrics_.cluster_synced.Remove({cluster});
  metrics_.cluster_stale.Remove({cluster});
  metrics_.cluster_stale_removed.Remove({cluster});
  log_.Info("remote cluster disconnected", {{"cluster", cluster}, {"services", keys.size()}});
  if (template_.on_keys && !keys.empty()) template_.on_keys(std::move(keys));
}

void RemoteClusters::ReportSecretProblem(const SecretProblem& problem) {
  // A legacy label is a warning: the Secret is still used.
  const auto level = problem.reason == "legacy-label" ? spdlog::level::warn : spdlog::level::err;
  log_.Log(level, "remote secret problem",
           {{"secret", problem.secret}, {"reason", problem.reason}, {"detail", problem.message}});
  metrics_.remote_secret_errors.Inc({problem.secret, problem.reason});
  if (events_) {
    events_->Warning({"v1", "Secret", secret_namespace_, problem.secret}, "RemoteClusterSecret",
                     problem.message);
  }
}

ClusterHealth ReportedHealth(const RemoteClusterStatus& remote) {
  ClusterHealth health = remote.connected ? remote.health : ClusterHealth{};
  if (!remote.config_error.empty()) health.last_error = remote.config_error;
  return health;
}

std::vector<SecretProblem> RemoteClusters::Problems() const {
  std::lock_guard lock(mutex_);
  std::vector<SecretProblem> out = key_problems_;
  for (const auto& [cluster, remote] : remotes_) {
    if (!remote.config_error.empty()) {
      out.push_back(KubeconfigProblem(remote.secret, cluster, remote.config_error));
    }
  }
  return out;
}

std::vector<RemoteClusterStatus> RemoteClusters::Status() const {
  std::lock_guard lock(mutex_);
  std::vector<RemoteClusterStatus> out;
  for (const auto& [cluster, remote] : remotes_) {
    RemoteClusterStatus status;
    status.cluster = cluster;
    status.secret = remote.secret;
    status.connected = remote.connection != nullptr;
    if (remote.connection) status.health = remote.connection->Health();
    status.config_error = remote.config_error;
    status.connection_generation = remote.generation;
    out.push_back(std::move(status));
  }
  return out;
}

void RemoteClusters::StopAll() {
  std::map<std::string, Remote> remotes;
  {
    std::lock_guard lock(mutex_);
    remotes.swap(remotes_);
  }
  for (auto& [cluster, remote] : remotes) {
    if (remote.connection) remote.connection->Stop();
  }
}

}  // namespace globalsvc::controller
