#include "controller/owned_object_observer.h"

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

std::string ObjectKey(const std::string& namespace_name, const std::string& name) {
  return namespace_name + "/" + name;
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

std::optional<std::string> OwnedObjectObserver::Store(nlohmann::json& object) {
  if (!object.is_object()) return std::nullopt;
  if (!object.contains("kind")) object["kind"] = kind_;
  if (!object.contains("apiVersion")) object["apiVersion"] = api_version_;
  ObservedObject observed;
  observed.namespace_name = StringAt(object, "metadata", "namespace");
  observed.name = StringAt(object, "metadata", "name");
  if (observed.name.empty()) return std::nullopt;
  observed.uid = StringAt(object, "metadata", "uid");
  observed.managed = IsManagedByGlobalsvc(object);
  observed.content_hash = mesh::OwnedContentHash(object);
  auto key = OwnerKeyOf(object);
  std::lock_guard lock(mutex_);
  const std::string object_key = ObjectKey(observed.namespace_name, observed.name);
  if (!key) {
    objects_.erase(object_key);  // no longer anything of ours
    return std::nullopt;
  }
  observed.owner_key = *key;
  objects_[object_key] = std::move(observed);
  return key;
}

void OwnedObjectObserver::BeginReplace() {
  std::lock_guard lock(mutex_);
  listed_.clear();
}

void OwnedObjectObserver::ReplaceItem(nlohmann::json&& object) {
  if (auto key = Store(object)) {
    {
      std::lock_guard lock(mutex_);
      listed_.insert(ObjectKey(StringAt(object, "metadata", "namespace"),
                               StringAt(object, "metadata", "name")));
    }
    if (on_keys_) on_keys_({*key});
  }
}

void OwnedObjectObserver::EndReplace() {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mutex_);
    for (auto it = objects_.begin(); it != objects_.end();) {
      if (listed_.count(it->first)) {
        ++it;
        continue;
      }
      keys.push_back(it->second.owner_key);
      it = objects_.erase(it);
    }
    listed_.clear();
  }
  synced_ = true;
  if (on_keys_ && !keys.empty()) on_keys_(std::move(keys));
}

void OwnedObjectObserver::AbortReplace() {
  std::lock_guard lock(mutex_);
  listed_.clear();
}

void OwnedObjectObserver::ApplyEvent(kube::WatchEventType type, nlohmann::json&& object) {
  std::optional<std::string> key;
  if (type == kube::WatchEventType::kDeleted) {
    const std::string object_key =
        ObjectKey(StringAt(object, "metadata", "namespace"), StringAt(object, "metadata", "name"));
    std::lock_guard lock(mutex_);
    if (auto it = objects_.find(object_key); it != objects_.end()) {
      key = it->second.owner_key;
      objects_.erase(it);
    }
  } else if (type == kube::WatchEventType::kAdded || type == kube::WatchEventType::kModified) {
    key = Store(object);
  }
  if (key && on_keys_) on_keys_({*key});
}

std::optional<ObservedObject> OwnedObjectObserver::Get(const std::string& namespace_name,
                                                       const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = objects_.find(ObjectKey(namespace_name, name));
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<ObservedObject> OwnedObjectObserver::OwnedBy(const std::string& owner_key) const {
  std::lock_guard lock(mutex_);
  std::vector<ObservedObject> out;
  for (const auto& [key, object] : objects_) {
    if (object.managed && object.owner_key == owner_key) out.push_back(object);
  }
  return out;
}

std::vector<std::string> OwnedObjectObserver::OwnerKeys() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> keys;
  for (const auto& [key, object] : objects_) {
    if (object.managed) keys.push_back(object.owner_key);
  }
  return keys;
}

void OwnedObjectObserver::RecordWritten(const nlohmann::json& object) {
  nlohmann::json copy = object;
  (void)Store(copy);
}

void OwnedObjectObserver::RecordDeleted(const std::string& namespace_name,
                                        const std::string& name) {
  std::lock_guard lock(mutex_);
  objects_.erase(ObjectKey(namespace_name, name));
}

}  // namespace globalsvc::controller
