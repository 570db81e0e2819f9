#include "controller/remote_clusters.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "lib/base/json_fields.h"
#include "lib/base/utf8.h"
#include "lib/kube/pem.h"
#include "lib/observability/logging.h"

namespace globalsvc::controller {
namespace {

SecretProblem KubeconfigProblem(const std::string& secret, const std::string& cluster,
                                const std::string& error) {
  return {secret, "invalid-kubeconfig", "cluster " + cluster + " cannot be connected: " + error};
}

std::string NameOf(const nlohmann::json& object) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  auto name = metadata->find("name");
  return name != metadata->end() && name->is_string() ? name->get<std::string>() : std::string();
}

nlohmann::json DataOf(const nlohmann::json& object) {
  auto data = object.find("data");
  return data != object.end() && data->is_object() ? *data : nlohmann::json::object();
}

}  // namespace

bool IsValidClusterName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

bool IsValidLabelValue(std::string_view value) {
  if (value.size() > 63) return false;
  const auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!value.empty() && (!alnum(value.front()) || !alnum(value.back()))) return false;
  return std::all_of(value.begin(), value.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

RemoteClusters::SecretView RemoteClusters::ViewOf(const nlohmann::json& object) {
  const auto annotation = [&](const char* name) {
    return StringFieldAt(object, {"metadata", "annotations", name});
  };
  return {DataOf(object), annotation(kNetworkAnnotation), annotation(kNamespacesAnnotation),
          annotation(kExcludeNamespacesAnnotation)};
}

RemoteClusters::RemoteClusters(std::string local_cluster, ClusterConnectionOptions template_options,
                               ControllerMetrics& metrics, EventSink* events,
                               std::string secret_namespace, bool read_legacy_label)
    : local_cluster_(std::move(local_cluster)),
      template_(std::move(template_options)),
      metrics_(metrics),
      events_(events),
      secret_namespace_(std::move(secret_namespace)),
      read_legacy_label_(read_legacy_label),
      log_(obs::ComponentLogger("remote-clusters")) {}

RemoteClusters::~RemoteClusters() {
  StopAll();
}

kube::ReflectorSink& RemoteClusters::sink(SecretLabel label) {
  return label == SecretLabel::kOwn ? own_sink_ : legacy_sink_;
}

void RemoteClusters::LabelSink::BeginReplace() {
  std::lock_guard lock(owner_.mutex_);
  state().listing.clear();
}

void RemoteClusters::LabelSink::ReplaceItem(nlohmann::json&& object) {
  std::lock_guard lock(owner_.mutex_);
  state().listing[NameOf(object)] = ViewOf(object);
}

void RemoteClusters::LabelSink::EndReplace() {
  {
    std::lock_guard lock(owner_.mutex_);
    state().secrets = std::move(state().listing);
    state().listing.clear();
  }
  owner_.Reconcile();
  std::lock_guard lock(owner_.mutex_);
  state().synced = true;
}

void RemoteClusters::LabelSink::AbortReplace() {
  std::lock_guard lock(owner_.mutex_);
  state().listing.clear();
}

void RemoteClusters::LabelSink::ApplyEvent(kube::WatchEventType type, nlohmann::json&& object) {
  {
    std::lock_guard lock(owner_.mutex_);
    const std::string name = NameOf(object);
    if (type == kube::WatchEventType::kDeleted) {
      state().secrets.erase(name);
    } else if (type == kube::WatchEventType::kAdded || type == kube::WatchEventType::kModified) {
      state().secrets[name] = ViewOf(object);
    } else {
      return;
    }
  }
  owner_.Reconcile();
}

bool RemoteClusters::synced() const {
  std::lock_guard lock(mutex_);
  return labels_[static_cast<int>(SecretLabel::kOwn)].synced &&
         (!read_legacy_label_ || labels_[static_cast<int>(SecretLabel::kLegacy)].synced);
}

void RemoteClusters::Reconcile() {
  // Desired: cluster -> (secret, kubeconfig). Secrets in name order, so a
  // cluster named in two Secrets deterministically comes from the first.
  std::map<std::string, Source> desired;
  std::vector<SecretProblem> problems;
  {
    std::lock_guard lock(mutex_);
    const auto& own = labels_[static_cast<int>(SecretLabel::kOwn)].secrets;
    const auto& legacy = labels_[static_cast<int>(SecretLabel::kLegacy)].secrets;
    // Own-labelled Secrets first: a cluster also named by a legacy one comes
    // from the new Secret.
    std::vector<std::pair<const std::string*, const SecretView*>> ordered;
    for (const auto& [secret, view] : own)
      ordered.emplace_back(&secret, &view);
    // In two steps, so that the cluster stays connected throughout: two
    // watches report one relabelling in either order.
    const std::string relabel = std::string("add the label ") + kRemoteSecretLabel +
                                "=true, then remove " + kLegacyRemoteSecretLabel;
    for (const auto& [secret, view] : legacy) {
      if (own.count(secret)) {
        problems.push_back({secret, "legacy-label",
                            std::string("also labelled ") + kLegacyRemoteSecretLabel +
                                "=true, which istiod watches too: remove that label"});
        continue;
      }
      problems.push_back({secret, "legacy-label",
                          std::string("labelled ") + kLegacyRemoteSecretLabel +
                              "=true, which istiod watches too; still read for now: " + relabel});
      ordered.emplace_back(&secret, &view);
    }
    for (const auto& [secret_name, view_of] : ordered) {
      const std::string& secret = *secret_name;
      const SecretView& view = *view_of;
      if (!view.network.empty() && !IsValidLabelValue(view.network)) {
        problems.push_back({secret, "invalid-network",
                            std::string(kNetworkAnnotation) + " '" + ShortUtf8(view.network, 80) +
                                "' is not a valid network name; the Secret is ignored"});
        continue;
      }
      auto namespaces = NamespaceFilter::Parse(view.namespaces, view.exclude_namespaces);
      if (!namespaces.ok()) {
        problems.push_back({secret, "invalid-namespaces",
                            std::string(kNamespacesAnnotation) + "/" +
                                kExcludeNamespacesAnnotation + ": " + namespaces.error().message +
                                "; the Secret is ignored"});
        continue;
      }
      for (const auto& [cluster, value] : view.data.items()) {
        if (!IsValidClusterName(cluster)) {
          problems.push_back({secret, "invalid-cluster-name",
                              "data key '" + ShortUtf8(cluster, 80) +
                                  "' is not a valid cluster name (lower-case letters, digits, "
                                  "'-' and '.', at most 253); ignored"});
          continue;
        }
        if (cluster == local_cluster_) {
          problems.push_back({secret, "local-cluster",
                              "data key " + cluster + " names the local cluster; ignored"});
          continue;
        }
        if (desired.count(cluster)) {
          problems.push_back({secret, "duplicate-cluster",
                              "cluster " + cluster + " is already connected by secret " +
                                  desired[cluster].secret + "; this key is ignored"});
          continue;
        }
        auto text = value.is_string() ? kube::DecodeBase64(value.get<std::string>()) : std::nullopt;
        if (!text) {
          problems.push_back(
              {secret, "not-base64", "data key " + cluster + " is not base64; ignored"});
          continue;
        }
        desired[cluster] = {secret, std::move(*text), view.network, *namespaces};
      }
    }
    key_problems_ = problems;
  }
  // Reported outside the lock: recording an Event is a request.
  for (const auto& problem : problems)
    ReportSecretProblem(problem);

  // Disconnect clusters no Secret names any more.
  std::vector<std::string> gone;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [cluster, remote] : remotes_) {
      if (!desired.count(cluster)) gone.push_back(cluster);
    }
  }
  for (const auto& cluster : gone)
    Disconnect(cluster);

  for (auto& [cluster, source] : desired) {
    {
      std::lock_guard lock(mutex_);
      auto it = remotes_.find(cluster);
      if (it != remotes_.end() && it->second.kubeconfig == source.kubeconfig &&
          it->second.network == source.network && it->second.namespaces == source.namespaces) {
        continue;
      }
    }
    // The Secret is not a file: relative paths in it mean nothing.
    auto config =
        kube::ParseKubeconfig(source.kubeconfig, "secret " + source.secret + " key " + cluster, "",
                              {}, kube::KubeconfigTrust::kClusterData);
    std::unique_ptr<ClusterConnection> connection;
    std::string error;
    if (config.ok()) {
      ClusterConnectionOptions options = template_;
      options.cluster = cluster;
      options.config = std::move(*config);
      options.config.name = cluster;
      options.network_override = source.network;
      options.namespaces = source.namespaces;
      auto connected = ClusterConnection::Connect(std::move(options));
      if (connected.ok()) {
        connection = std::move(*connected);
      } else {
        error = connected.error().message;
      }
    } else {
      error = config.error().message;
    }

    std::unique_ptr<ClusterConnection> replaced;
    {
      std::lock_guard lock(mutex_);
      Remote& remote = remotes_[cluster];
      remote.secret = source.secret;
      if (connection) {
        replaced = std::move(remote.connection);
        remote.connection = std::move(connection);
        remote.generation = next_generation_++;
        remote.kubeconfig = source.kubeconfig;
        remote.network = source.network;
        remote.namespaces = source.namespaces;
        remote.config_error.clear();
      } else {
        // Keep the previous connection (if any) and its endpoints.
        remote.config_error = error;
        remote.kubeconfig = source.kubeconfig;
        remote.network = source.network;
        remote.namespaces = source.namespaces;
      }
    }
    if (!error.empty()) {
      ReportSecretProblem(KubeconfigProblem(source.secret, cluster, error));
    } else {
      log_->info("remote cluster {} cluster={} secret={} pinned_network={} namespaces=\"{}\"",
                 replaced ? "reconnected" : "connected", cluster, source.secret,
                 source.network.empty() ? "-" : source.network, source.namespaces.Describe());
    }
    if (replaced) replaced->Stop();  // after the new one runs: state is never dropped
  }
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
  log_->info("remote cluster disconnected cluster={} services={}", cluster, keys.size());
  if (template_.on_keys && !keys.empty()) template_.on_keys(std::move(keys));
}

void RemoteClusters::ReportSecretProblem(const SecretProblem& problem) {
  // A legacy label is a warning: the Secret is still used.
  const auto level = problem.reason == "legacy-label" ? spdlog::level::warn : spdlog::level::err;
  log_->log(level, "remote secret problem secret={} reason={} {}", problem.secret, problem.reason,
            problem.message);
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
