#include "controller/remote_secret_reading.h"

#include <algorithm>
#include <optional>

#include "controller/remote_secret_labels.h"
#include "lib/base/json_fields.h"
#include "lib/base/utf8.h"
#include "lib/kube/pem.h"

namespace globalsvc::controller {
namespace {

using SecretList = std::vector<std::pair<const std::string*, const RemoteSecretView*>>;

nlohmann::json DataOf(const nlohmann::json& object) {
  auto data = object.find("data");
  return data != object.end() && data->is_object() ? *data : nlohmann::json::object();
}

// The Secrets to read, own-labelled first; the legacy-labelled ones are told
// to move to the new label (in two steps, so that the cluster stays
// connected throughout: two watches report one relabelling in either order).
SecretList SecretsInOrder(const std::map<std::string, RemoteSecretView>& own_label,
                          const std::map<std::string, RemoteSecretView>& legacy_label,
                          std::vector<SecretProblem>& problems) {
  SecretList ordered;
  for (const auto& [secret, view] : own_label)
    ordered.emplace_back(&secret, &view);
  const std::string relabel = std::string("add the label ") + kRemoteSecretLabel +
                              "=true, then remove " + kLegacyRemoteSecretLabel;
  for (const auto& [secret, view] : legacy_label) {
    if (own_label.count(secret)) {
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
  return ordered;
}

// The Secret-wide settings, or nullopt (and a problem) when the Secret is
// ignored for them.
std::optional<NamespaceFilter> SecretSettings(const std::string& secret,
                                              const RemoteSecretView& view,
                                              std::vector<SecretProblem>& problems) {
  if (!view.network.empty() && !IsValidLabelValue(view.network)) {
    problems.push_back({secret, "invalid-network",
                        std::string(kNetworkAnnotation) + " '" + ShortUtf8(view.network, 80) +
                            "' is not a valid network name; the Secret is ignored"});
    return std::nullopt;
  }
  auto namespaces = NamespaceFilter::Parse(view.namespaces, view.exclude_namespaces);
  if (!namespaces.ok()) {
    problems.push_back({secret, "invalid-namespaces",
                        std::string(kNamespacesAnnotation) + "/" + kExcludeNamespacesAnnotation +
                            ": " + namespaces.error().message + "; the Secret is ignored"});
    return std::nullopt;
  }
  return *namespaces;
}

// The kubeconfig under one data key, or nullopt (and a problem).
std::optional<std::string> KubeconfigOfKey(const std::string& secret, const std::string& cluster,
                                           const nlohmann::json& value,
                                           const DesiredRemotes& desired,
                                           const std::string& local_cluster,
                                           std::vector<SecretProblem>& problems) {
  if (!IsValidClusterName(cluster)) {
    problems.push_back({secret, "invalid-cluster-name",
                        "data key '" + ShortUtf8(cluster, 80) +
                            "' is not a valid cluster name (lower-case letters, digits, "
                            "'-' and '.', at most 253); ignored"});
    return std::nullopt;
  }
  if (cluster == local_cluster) {
    problems.push_back(
        {secret, "local-cluster", "data key " + cluster + " names the local cluster; ignored"});
    return std::nullopt;
  }
  if (auto it = desired.clusters.find(cluster); it != desired.clusters.end()) {
    problems.push_back({secret, "duplicate-cluster",
                        "cluster " + cluster + " is already connected by secret " +
                            it->second.secret + "; this key is ignored"});
    return std::nullopt;
  }
  auto text = value.is_string() ? kube::DecodeBase64(value.get<std::string>()) : std::nullopt;
  if (!text) {
    problems.push_back({secret, "not-base64", "data key " + cluster + " is not base64; ignored"});
  }
  return text;
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

RemoteSecretView ViewOfRemoteSecret(const nlohmann::json& object) {
  const auto annotation = [&](const char* name) {
    return StringFieldAt(object, {"metadata", "annotations", name});
  };
  return {DataOf(object), annotation(kNetworkAnnotation), annotation(kNamespacesAnnotation),
          annotation(kExcludeNamespacesAnnotation)};
}

DesiredRemotes ReadDesiredRemotes(const std::map<std::string, RemoteSecretView>& own_label,
                                  const std::map<std::string, RemoteSecretView>& legacy_label,
                                  const std::string& local_cluster) {
  DesiredRemotes desired;
  for (const auto& [secret_name, view_of] :
       SecretsInOrder(own_label, legacy_label, desired.problems)) {
    const std::string& secret = *secret_name;
    const RemoteSecretView& view = *view_of;
    auto namespaces = SecretSettings(secret, view, desired.problems);
    if (!namespaces) continue;
    for (const auto& [cluster, value] : view.data.items()) {
      auto kubeconfig =
          KubeconfigOfKey(secret, cluster, value, desired, local_cluster, desired.problems);
      if (!kubeconfig) continue;
      desired.clusters[cluster] = {secret, std::move(*kubeconfig), view.network, *namespaces};
    }
  }
  return desired;
}

}  // namespace globalsvc::controller
