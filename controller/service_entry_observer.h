#pragma once

// What the local cluster holds of `autogen.*` ServiceEntries in the
// control-plane namespace: a kube::Cache, fed by a reflector, of per object
// its uid, resourceVersion, whether globalsvc owns it, and the content hash of
// the fields globalsvc owns. Any change hands the ServiceEntry's key
// ("<ns>/<service>", parsed from the name) to `on_keys`, so edits or deletes
// by others are repaired (level-triggered).
//
// Threads: the reflector thread writes; workers read and record their own
// writes (the cache's lock).

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controller/projection_sinks.h"
#include "lib/kube/cache.h"
#include "lib/kube/reflector_sink.h"

namespace globalsvc::controller {

struct ObservedEntry {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string resource_version;
  bool managed = false;  // labelled app.kubernetes.io/managed-by=globalsvc
  std::string content_hash;
  bool operator==(const ObservedEntry&) const = default;
};

// "autogen.<ns>.<service>" -> "<ns>/<service>"; nullopt for other names.
[[nodiscard]] std::optional<std::string> KeyOfServiceEntryName(const std::string& name);

// The reflector feeds it as a kube::ReflectorSink.
class ServiceEntryObserver final : public kube::CachedSink<ObservedEntry> {
 public:
  explicit ServiceEntryObserver(KeysCallback on_keys);

  [[nodiscard]] bool synced() const { return cache_.HasSynced(); }
  [[nodiscard]] std::optional<ObservedEntry> Get(const std::string& name) const;
  // Keys of the entries globalsvc owns.
  [[nodiscard]] std::vector<std::string> ManagedKeys() const;

  // Records the server's answer to our own write at once, so the next
  // reconcile does not act on the pre-write copy before the watch catches up.
  void RecordWritten(const nlohmann::json& object) { cache_.Record(object); }
  void RecordDeleted(const std::string& name);
};

}  // namespace globalsvc::controller
