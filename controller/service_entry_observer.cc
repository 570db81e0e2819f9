#include "controller/service_entry_observer.h"

#include "controller/owned_objects.h"
#include "lib/mesh/model.h"
#include "lib/mesh/service_entry.h"

namespace globalsvc::controller {
namespace {

ObservedEntry Observe(const nlohmann::json& object) {
  ObservedEntry entry;
  entry.name = StringAt(object, "metadata", "name");
  entry.uid = StringAt(object, "metadata", "uid");
  entry.resource_version = StringAt(object, "metadata", "resourceVersion");
  entry.managed = IsManagedByGlobalsvc(object);
  entry.content_hash = mesh::ContentHash(object);
  return entry;
}

}  // namespace

std::optional<std::string> KeyOfServiceEntryName(const std::string& name) {
  static const std::string kPrefix = "autogen.";
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  const std::string rest = name.substr(kPrefix.size());
  const auto dot = rest.find('.');  // namespaces hold no dots
  if (dot == std::string::npos || dot == 0 || dot + 1 == rest.size()) return std::nullopt;
  return rest.substr(0, dot) + "/" + rest.substr(dot + 1);
}

std::optional<std::string> ServiceEntryObserver::Store(const nlohmann::json& object) {
  ObservedEntry entry = Observe(object);
  auto key = KeyOfServiceEntryName(entry.name);
  if (!key) return std::nullopt;
  std::lock_guard lock(mutex_);
  entries_[entry.name] = std::move(entry);
  return key;
}

void ServiceEntryObserver::BeginReplace() {
  std::lock_guard lock(mutex_);
  listed_.clear();
}

void ServiceEntryObserver::ReplaceItem(nlohmann::json&& object) {
  if (auto key = Store(object)) {
    {
      std::lock_guard lock(mutex_);
      listed_.insert(StringAt(object, "metadata", "name"));
    }
    if (on_keys_) on_keys_({*key});
  }
}

void ServiceEntryObserver::EndReplace() {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (listed_.count(it->first)) {
        ++it;
        continue;
      }
      if (auto key = KeyOfServiceEntryName(it->first)) keys.push_back(*key);
      it = entries_.erase(it);
    }
    listed_.clear();
  }
  synced_ = true;
  if (on_keys_ && !keys.empty()) on_keys_(std::move(keys));
}

void ServiceEntryObserver::AbortReplace() {
  std::lock_guard lock(mutex_);
  listed_.clear();
}

void ServiceEntryObserver::ApplyEvent(kube::WatchEventType type, nlohmann::json&& object) {
  std::optional<std::string> key;
  if (type == kube::WatchEventType::kDeleted) {
    const std::string name = StringAt(object, "metadata", "name");
    key = KeyOfServiceEntryName(name);
    std::lock_guard lock(mutex_);
    entries_.erase(name);
  } else if (type == kube::WatchEventType::kAdded || type == kube::WatchEventType::kModified) {
    key = Store(object);
  }
  if (key && on_keys_) on_keys_({*key});
}

std::optional<ObservedEntry> ServiceEntryObserver::Get(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> ServiceEntryObserver::ManagedKeys() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> keys;
  for (const auto& [name, entry] : entries_) {
    if (!entry.managed) continue;
    if (auto key = KeyOfServiceEntryName(name)) keys.push_back(*key);
  }
  return keys;
}

void ServiceEntryObserver::RecordWritten(const nlohmann::json& object) {
  (void)Store(object);
}

void ServiceEntryObserver::RecordDeleted(const std::string& name) {
  std::lock_guard lock(mutex_);
  entries_.erase(name);
}

}  // namespace globalsvc::controller
