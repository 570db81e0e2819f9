#include "test/support/memory_object_api.h"

#include <sstream>

namespace globalsvc::testsupport {
namespace {

using nlohmann::json;

std::string Label(const json& object, const std::string& key) {
  const auto& labels = object.value("metadata", json::object()).value("labels", json::object());
  auto it = labels.find(key);
  return it != labels.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool HasLabel(const json& object, const std::string& key) {
  const auto& labels = object.value("metadata", json::object()).value("labels", json::object());
  return labels.contains(key);
}

// Equality-based selectors only; an unknown form matches nothing.
bool Matches(const json& object, const std::string& selector) {
  std::stringstream terms(selector);
  std::string term;
  while (std::getline(terms, term, ',')) {
    if (term.empty()) continue;
    if (auto at = term.find("!="); at != std::string::npos) {
      if (Label(object, term.substr(0, at)) == term.substr(at + 2) &&
          HasLabel(object, term.substr(0, at))) {
        return false;
      }
    } else if (auto eq = term.find('='); eq != std::string::npos) {
      const std::string key = term.substr(0, eq);
      const std::string value = term.substr(term[eq + 1] == '=' ? eq + 2 : eq + 1);
      if (!HasLabel(object, key) || Label(object, key) != value) return false;
    } else if (term.front() == '!') {
      if (HasLabel(object, term.substr(1))) return false;
    } else if (!HasLabel(object, term)) {
      return false;
    }
  }
  return true;
}

std::string NameOf(const json& object) {
  return object.value("metadata", json::object()).value("name", "");
}

std::string Describe(const kube::ResourceType& type, std::string_view ns, std::string_view name) {
  return type.plural + " " + std::string(ns) + (ns.empty() ? "" : "/") + std::string(name);
}

// Server-side apply's merge, as far as the callers' objects need it.
void Merge(json& stored, const json& applied, const json* previous) {
  for (const char* map : {"labels", "annotations"}) {
    json& target = stored["metadata"][map];
    if (!target.is_object()) target = json::object();
    const json wanted = applied.value("metadata", json::object()).value(map, json::object());
    if (previous) {
      // What this manager applied before and no longer does is removed.
      const json before = previous->value("metadata", json::object()).value(map, json::object());
      for (const auto& [key, value] : before.items()) {
        if (!wanted.contains(key)) target.erase(key);
      }
    }
    for (const auto& [key, value] : wanted.items())
      target[key] = value;
    if (target.empty()) stored["metadata"].erase(map);
  }
  for (const auto& [field, value] : applied.items()) {
    if (field == "metadata" || field == "apiVersion" || field == "kind") continue;
    stored[field] = value;
  }
}

}  // namespace

// Hands on the events a call made once it has released the mutex.
class MemoryObjectApi::DeliverAfter {
 public:
  explicit DeliverAfter(MemoryObjectApi& api) : api_(api) {}
  ~DeliverAfter() { api_.Deliver(); }
  DeliverAfter(const DeliverAfter&) = delete;
  DeliverAfter& operator=(const DeliverAfter&) = delete;

 private:
  MemoryObjectApi& api_;
};

MemoryObjectApi::Key MemoryObjectApi::KeyOf(const kube::ResourceType& type,
                                            std::string_view namespace_name,
                                            std::string_view name) {
  return {type.group + "/" + type.plural, type.namespaced ? std::string(namespace_name) : "",
          std::string(name)};
}

std::optional<Error> MemoryObjectApi::Begin(const std::string& verb) {
  ++calls_[verb];
  auto it = failures_.find(verb);
  if (it == failures_.end()) return std::nullopt;
  Error error = std::move(it->second);
  failures_.erase(it);
  return error;
}

void MemoryObjectApi::RunBefore(const std::string& verb) {
  std::function<void()> action;
  {
    std::lock_guard lock(mutex_);
    auto it = before_.find(verb);
    if (it == before_.end()) return;
    action = std::move(it->second);
    before_.erase(it);
  }
  action();
}

void MemoryObjectApi::BeforeNext(const std::string& verb, std::function<void()> action) {
  std::lock_guard lock(mutex_);
  before_[verb] = std::move(action);
}

void MemoryObjectApi::Stamp(json& object) {
  json& metadata = object["metadata"];
  if (!metadata.contains("uid")) metadata["uid"] = "uid-" + std::to_string(++version_);
  metadata["resourceVersion"] = std::to_string(++version_);
}

Result<json> MemoryObjectApi::Get(const kube::ResourceType& type, std::string_view namespace_name,
                                  std::string_view name) {
  std::lock_guard lock(mutex_);
  if (auto failure = Begin("get")) return *failure;
  auto it = objects_.find(KeyOf(type, namespace_name, name));
  if (it == objects_.end()) {
    return MakeError(ErrorCode::kNotFound, Describe(type, namespace_name, name) + " not found");
  }
  return it->second.object;
}

Result<kube::ListResult> MemoryObjectApi::List(const kube::ResourceType& type,
                                               std::string_view namespace_name,
                                               const kube::ListOptions& options) {
  std::lock_guard lock(mutex_);
  if (auto failure = Begin("list")) return *failure;
  if (!options.field_selector.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "field selectors are not kept in memory");
  }
  kube::ListResult result;
  result.pages = 1;
  result.resource_version = std::to_string(version_);
  const std::string resource = type.group + "/" + type.plural;
  for (const auto& [key, stored] : objects_) {
    const auto& [kind, ns, name] = key;
    if (kind != resource) continue;
    if (!namespace_name.empty() && ns != namespace_name) continue;
    if (!Matches(stored.object, options.label_selector)) continue;
    result.items.push_back(stored.object);
  }
  return result;
}

Result<json> MemoryObjectApi::Create(const kube::ResourceType& type,
                                     std::string_view namespace_name, const json& object) {
  RunBefore("create");
  DeliverAfter deliver(*this);  // declared first: runs after the lock is released
  std::lock_guard lock(mutex_);
  if (auto failure = Begin("create")) return *failure;
  const Key key = KeyOf(type, namespace_name, NameOf(object));
  if (objects_.count(key)) {
    return MakeError(ErrorCode::kConflict,
                     Describe(type, namespace_name, NameOf(object)) + " already exists");
  }
  json stored = object;
  stored["metadata"].erase("uid");
  stored["metadata"].erase("resourceVersion");
  if (type.namespaced) stored["metadata"]["namespace"] = std::string(namespace_name);
  Stamp(stored);
  objects_[key] = {stored, {}};
  Emit(key, kube::WatchEventType::kAdded, stored);
  return stored;
}

Result<json> MemoryObjectApi::Update(const kube::ResourceType& type,
                                     std::string_view namespace_name, const json& object,
                                     std::string_view subresource) {
  RunBefore("update");
  DeliverAfter deliver(*this);  // declared first: runs after the lock is released
  std::lock_guard lock(mutex_);
  if (auto failure = Begin("update")) return *failure;
  auto it = objects_.find(KeyOf(type, namespace_name, NameOf(object)));
  if (it == objects_.end()) {
    return MakeError(ErrorCode::kNotFound,
                     Describe(type, namespace_name, NameOf(object)) + " not found");
  }
  json& stored = it->second.object;
  const std::string version = object.value("metadata", json::object()).value("resourceVersion", "");
  if (!version.empty() && version != stored["metadata"].value("resourceVersion", "")) {
    return MakeError(ErrorCode::kConflict, Describe(type, namespace_name, NameOf(object)) +
                                               ": the object has been modified");
  }
  if (subresource == "status") {
    stored["status"] = object.value("status", json::object());
  } else {
    json replaced = object;
    replaced["metadata"]["uid"] = stored["metadata"]["uid"];
    if (stored.contains("status")) replaced["status"] = stored["status"];
    stored = std::move(replaced);
  }
  Stamp(stored);
  Emit(it->first, kube::WatchEventType::kModified, stored);
  return stored;
}

Result<json> MemoryObjectApi::Apply(const kube::ResourceType& type, std::string_view namespace_name,
                                    const json& object, const kube::ApplyOptions& options) {
  RunBefore("apply");
  DeliverAfter deliver(*this);  // declared first: runs after the lock is released
  std::lock_guard lock(mutex_);
  if (auto failure = Begin("apply")) return *failure;
  if (options.field_manager.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "server-side apply needs a field manager");
  }
  const Key key = KeyOf(type, namespace_name, NameOf(object));
  json applied = object;
  if (options.subresource == "status") {
    applied = {{"status", object.value("status", json::object())}};
  }
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    if (options.subresource == "status") {
      return MakeError(ErrorCode::kNotFound,
                       Describe(type, namespace_name, NameOf(object)) + " not found");
    }
    json stored = {{"apiVersion", object.value("apiVersion", type.ApiVersion())},
                   {"kind", object.value("kind", "")},
                   {"metadata", {{"name", NameOf(object)}}}};
    if (type.namespaced) stored["metadata"]["namespace"] = std::string(namespace_name);
    Merge(stored, applied, nullptr);
    Stamp(stored);
    objects_[key] = {stored, {{options.field_manager, applied}}};
    Emit(key, kube::WatchEventType::kAdded, stored);
    return stored;
  }
  Stored& stored = it->second;
  if (!options.force) {
    for (const auto& [manager, theirs] : stored.applied) {
      if (manager == options.field_manager) continue;
      for (const auto& [field, value] : applied.items()) {
        if (field == "metadata" || field == "apiVersion" || field == "kind") continue;
        if (theirs.contains(field) && theirs[field] != value) {
          return MakeError(ErrorCode::kConflict, "Apply failed with 1 conflict: conflict with \"" +
                                                     manager + "\": ." + field);
        }
      }
    }
  }
  auto previous = stored.applied.find(options.field_manager);
  Merge(stored.object, applied, previous == stored.applied.end() ? nullptr : &previous->second);
  stored.applied[options.field_manager] = applied;
  Stamp(stored.object);
  Emit(key, kube::WatchEventType::kModified, stored.object);
  return stored.object;
}

Status MemoryObjectApi::Delete(const kube::ResourceType& type, std::string_view namespace_name,
                               std::string_view name, const kube::DeleteOptions& options) {
  RunBefore("delete");
  DeliverAfter deliver(*this);  // declared first: runs after the lock is released
  std::lock_guard lock(mutex_);
  if (auto failure = Begin("delete")) return *failure;
  auto it = objects_.find(KeyOf(type, namespace_name, name));
  if (it == objects_.end()) {
    return MakeError(ErrorCode::kNotFound, Describe(type, namespace_name, name) + " not found");
  }
  const json& metadata = it->second.object["metadata"];
  if ((!options.uid.empty() && options.uid != metadata.value("uid", "")) ||
      (!options.resource_version.empty() &&
       options.resource_version != metadata.value("resourceVersion", ""))) {
    return MakeError(ErrorCode::kConflict,
                     Describe(type, namespace_name, name) + ": precondition failed");
  }
  Emit(it->first, kube::WatchEventType::kDeleted, it->second.object);
  objects_.erase(it);
  return Ok{};
}

json MemoryObjectApi::Seed(const kube::ResourceType& type, const json& object) {
  DeliverAfter deliver(*this);  // declared first: runs after the lock is released
  std::lock_guard lock(mutex_);
  json stored = object;
  Stamp(stored);
  const std::string ns = stored["metadata"].value("namespace", "");
  const Key key = KeyOf(type, ns, NameOf(stored));
  const bool existed = objects_.count(key) > 0;
  objects_[key] = {stored, {}};
  Emit(key, existed ? kube::WatchEventType::kModified : kube::WatchEventType::kAdded, stored);
  return stored;
}

std::optional<json> MemoryObjectApi::Find(const kube::ResourceType& type,
                                          std::string_view namespace_name,
                                          std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = objects_.find(KeyOf(type, namespace_name, name));
  if (it == objects_.end()) return std::nullopt;
  return it->second.object;
}

int MemoryObjectApi::Calls(const std::string& verb) const {
  std::lock_guard lock(mutex_);
  auto it = calls_.find(verb);
  return it == calls_.end() ? 0 : it->second;
}

int MemoryObjectApi::Writes() const {
  std::lock_guard lock(mutex_);
  int writes = 0;
  for (const char* verb : {"create", "update", "apply", "delete"}) {
    auto it = calls_.find(verb);
    if (it != calls_.end()) writes += it->second;
  }
  return writes;
}

void MemoryObjectApi::FailNext(const std::string& verb, Error error) {
  std::lock_guard lock(mutex_);
  failures_[verb] = std::move(error);
}

void MemoryObjectApi::Watch(const kube::ResourceType& type, std::string namespace_name,
                            kube::ReflectorSink& sink) {
  // Under the delivery lock: no event can reach the sink before its list.
  std::lock_guard delivering(delivery_mutex_);
  std::vector<json> listed;
  {
    std::lock_guard lock(mutex_);
    const std::string resource = type.group + "/" + type.plural;
    for (const auto& [key, stored] : objects_) {
      if (std::get<0>(key) != resource) continue;
      if (!namespace_name.empty() && std::get<1>(key) != namespace_name) continue;
      listed.push_back(stored.object);
    }
    watchers_.push_back({resource, std::move(namespace_name), &sink});
  }
  sink.BeginReplace();
  for (auto& object : listed)
    sink.ReplaceItem(std::move(object));
  sink.EndReplace();
}

void MemoryObjectApi::HoldEvents(bool hold) {
  {
    std::lock_guard lock(mutex_);
    hold_events_ = hold;
  }
  if (!hold) Deliver();
}

void MemoryObjectApi::DeliverEvents() {
  Deliver(/*even_if_held=*/true);
}

void MemoryObjectApi::Emit(const Key& key, kube::WatchEventType type, const json& object) {
  for (const auto& watcher : watchers_) {
    if (watcher.resource == std::get<0>(key) &&
        (watcher.namespace_name.empty() || watcher.namespace_name == std::get<1>(key))) {
      events_.push_back({key, type, object});
      return;
    }
  }
}

void MemoryObjectApi::Deliver(bool even_if_held) {
  // A sink that writes from its callback makes events of its own: the loop
  // below hands them on, rather than a nested call waiting on itself.
  thread_local bool delivering = false;
  if (delivering) return;
  std::lock_guard in_order(delivery_mutex_);
  delivering = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{delivering};
  for (;;) {
    std::vector<Event> events;
    std::vector<Watcher> watchers;
    {
      std::lock_guard lock(mutex_);
      if (hold_events_ && !even_if_held) break;
      events.swap(events_);
      watchers = watchers_;
    }
    if (events.empty()) break;
    for (auto& event : events) {
      for (const auto& watcher : watchers) {
        if (watcher.resource != std::get<0>(event.key)) continue;
        if (!watcher.namespace_name.empty() && watcher.namespace_name != std::get<1>(event.key)) {
          continue;
        }
        watcher.sink->ApplyEvent(event.type, nlohmann::json(event.object));
      }
    }
  }
}

}  // namespace globalsvc::testsupport
