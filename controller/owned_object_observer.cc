#include "controller/owned_object_observer.h"

#include <algorithm>

#include "controller/owned_objects.h"
#include "lib/base/json_fields.h"
#include "lib/mesh/istio_objects.h"
#include "lib/mesh/model.h"
#include "lib/mesh/peer_gateways.h"

namespace globalsvc::controller {
namespace {

// Any object, as read from a server or a file: a field of the wrong type reads as absent.
std::string Label(const nlohmann::json& object, std::string_view key) {
  return StringFieldAt(object, {"metadata", "labels", key});
}

}  // namespace

std::optional<std::string> OwnerKeyOf(const nlohmann::json& object) {
  if (!object.is_object()) return std::nullopt;
  if (IsManagedByGlobalsvc(object)) {
    const auto kind = object.find("kind");
    if (kind != object.end() && *kind == "Gateway") return std::string(kPeerGatewaysKey);
    const std::string ns = Label(object, mesh::kParentServiceNamespaceLabel);
    const std::string service = Label(object, mesh::kParentServiceLabel);
    if (!ns.empty() && !service.empty()) return ns + "/" + service;
  }
  // Not ours: only a name we would write matters (it is in our way).
  const std::string name = StringAt(object, "metadata", "name");
  if (name.rfind(mesh::kPeerGatewayPrefix, 0) == 0) return std::string(kPeerGatewaysKey);
  static const std::string kAutogen = "autogen.";
  if (name.rfind(kAutogen, 0) != 0) return std::nullopt;
  // autogen.<ns>.<service>[.<hash>]: namespaces and Service names hold no dots.
  const auto first = name.find('.', kAutogen.size());
  if (first == std::string::npos || first == kAutogen.size()) return std::nullopt;
  const auto second = name.find('.', first + 1);
  const std::string service =
      name.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
  if (service.empty()) return std::nullopt;
  return name.substr(kAutogen.size(), first - kAutogen.size()) + "/" + service;
}

namespace {
constexpr const char* kOwnerIndex = "owner";
}  // namespace

OwnedObjectObserver::OwnedObjectObserver(std::string api_version, std::string kind,
                                         KeysCallback on_keys)
    // Project() reads api_version_ and kind_, made before any object arrives.
    : CachedSink([this](const nlohmann::json& object) { return Project(object); }),
      api_version_(std::move(api_version)),
      kind_(std::move(kind)) {
  cache_.AddIndex(kOwnerIndex, [](const ObservedObject& observed) {
    return std::vector<std::string>{observed.owner_key};
  });
  if (!on_keys) return;
  // An object that changes owner repairs both.
  cache_.AddChangeHandler([on_keys = std::move(on_keys)](const auto& change) {
    std::vector<std::string> keys;
    if (change.old_value) keys.push_back(change.old_value->owner_key);
    if (change.new_value && (keys.empty() || keys.front() != change.new_value->owner_key)) {
      keys.push_back(change.new_value->owner_key);
    }
    on_keys(std::move(keys));
  });
}

std::optional<ObservedObject> OwnedObjectObserver::Project(const nlohmann::json& object) const {
  if (!object.is_object()) return std::nullopt;
  auto owner_key = OwnerKeyOf(object);
  if (!owner_key) return std::nullopt;  // neither ours nor in our way
  ObservedObject observed;
  observed.namespace_name = StringAt(object, "metadata", "namespace");
  observed.name = StringAt(object, "metadata", "name");
  if (observed.name.empty()) return std::nullopt;
  observed.uid = StringAt(object, "metadata", "uid");
  observed.managed = IsManagedByGlobalsvc(object);
  observed.owner_key = std::move(*owner_key);
  if (object.contains("kind") && object.contains("apiVersion")) {
    observed.content_hash = mesh::OwnedContentHash(object);
  } else {
    nlohmann::json typed = object;
    if (!typed.contains("kind")) typed["kind"] = kind_;
    if (!typed.contains("apiVersion")) typed["apiVersion"] = api_version_;
    observed.content_hash = mesh::OwnedContentHash(typed);
  }
  return observed;
}

std::optional<ObservedObject> OwnedObjectObserver::Get(const std::string& namespace_name,
                                                       const std::string& name) const {
  const auto observed = cache_.Get(kube::ObjectKey(namespace_name, name));
  if (!observed) return std::nullopt;
  return *observed;
}

std::vector<ObservedObject> OwnedObjectObserver::OwnedBy(const std::string& owner_key) const {
  std::vector<ObservedObject> out;
  for (const auto& observed : cache_.ByIndex(kOwnerIndex, owner_key)) {
    if (observed->managed) out.push_back(*observed);
  }
  return out;
}

std::vector<std::string> OwnedObjectObserver::OwnerKeys() const {
  std::vector<std::string> keys;
  for (const auto& observed : cache_.List()) {
    if (observed->managed) keys.push_back(observed->owner_key);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace globalsvc::controller
