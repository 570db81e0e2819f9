#include "controller/service_entry_observer.h"

#include <algorithm>

#include "controller/owned_objects.h"
#include "lib/mesh/model.h"
#include "lib/mesh/service_entry.h"

namespace globalsvc::controller {
namespace {

constexpr const char* kNameIndex = "name";

std::optional<ObservedEntry> Observe(const nlohmann::json& object) {
  ObservedEntry entry;
  entry.name = StringAt(object, "metadata", "name");
  if (!KeyOfServiceEntryName(entry.name)) return std::nullopt;  // not a name we write
  entry.namespace_name = StringAt(object, "metadata", "namespace");
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

ServiceEntryObserver::ServiceEntryObserver(KeysCallback on_keys) : CachedSink(Observe) {
  cache_.AddIndex(kNameIndex,
                  [](const ObservedEntry& entry) { return std::vector<std::string>{entry.name}; });
  if (!on_keys) return;
  cache_.AddChangeHandler([on_keys = std::move(on_keys)](const auto& change) {
    const auto& entry = change.new_value ? change.new_value : change.old_value;
    if (auto key = KeyOfServiceEntryName(entry->name)) on_keys({*key});
  });
}

std::optional<ObservedEntry> ServiceEntryObserver::Get(const std::string& name) const {
  const auto entries = cache_.ByIndex(kNameIndex, name);
  if (entries.empty()) return std::nullopt;
  return *entries.front();
}

std::vector<std::string> ServiceEntryObserver::ManagedKeys() const {
  std::vector<std::string> keys;
  for (const auto& entry : cache_.List()) {
    if (!entry->managed) continue;
    if (auto key = KeyOfServiceEntryName(entry->name)) keys.push_back(*key);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

void ServiceEntryObserver::RecordDeleted(const std::string& name) {
  if (const auto entry = Get(name)) cache_.Forget(kube::ObjectKey(entry->namespace_name, name));
}

}  // namespace globalsvc::controller
