#pragma once

// What the local cluster holds of `autogen.*` ServiceEntries in the
// control-plane namespace, fed by a reflector: per object its uid,
// resourceVersion, whether globalsvc owns it, and the content hash of the
// fields globalsvc owns. Any change hands the ServiceEntry's key
// ("<ns>/<service>", parsed from the name) to `on_keys`, so edits or deletes
// by others are repaired (level-triggered).
//
// Threads: the reflector thread writes; workers read and record their own
// writes. One mutex.

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "controller/projection_sinks.h"
#include "lib/kube/reflector_sink.h"

namespace globalsvc::controller {

struct ObservedEntry {
  std::string name;
  std::string uid;
  std::string resource_version;
  bool managed = false;  // labelled app.kubernetes.io/managed-by=globalsvc
  std::string content_hash;
};

// "autogen.<ns>.<service>" -> "<ns>/<service>"; nullopt for other names.
[[nodiscard]] std::optional<std::string> KeyOfServiceEntryName(const std::string& name);

class ServiceEntryObserver final : public kube::ReflectorSink {
 public:
  explicit ServiceEntryObserver(KeysCallback on_keys) : on_keys_(std::move(on_keys)) {}

  void BeginReplace() override;
  void ReplaceItem(nlohmann::json&& object) override;
  void EndReplace() override;
  void AbortReplace() override;
  void ApplyEvent(kube::WatchEventType type, nlohmann::json&& object) override;

  [[nodiscard]] bool synced() const { return synced_.load(); }
  [[nodiscard]] std::optional<ObservedEntry> Get(const std::string& name) const;
  // Keys of the entries globalsvc owns.
  [[nodiscard]] std::vector<std::string> ManagedKeys() const;

  // Records the server's answer to our own write at once, so the next
  // reconcile does not act on the pre-write copy before the watch catches up.
  void RecordWritten(const nlohmann::json& object);
  void RecordDeleted(const std::string& name);

 private:
  // Stores the object; returns its key when it is an autogen.* entry.
  std::optional<std::string> Store(const nlohmann::json& object);

  KeysCallback on_keys_;
  mutable std::mutex mutex_;
  std::map<std::string, ObservedEntry> entries_;
  std::unordered_set<std::string> listed_;
  std::atomic<bool> synced_{false};
};

}  // namespace globalsvc::controller
