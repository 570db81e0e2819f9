#pragma once

// What the local cluster holds of one kind of object globalsvc writes in the
// WorkloadEntry shape (ServiceEntries, WorkloadEntries, peer Gateways), fed
// by a reflector: per object (by "<namespace>/<name>") its uid, whether
// globalsvc owns it, its owner key and the hash of the fields globalsvc owns
// (mesh::OwnedContentHash). Any change hands the owner key to `on_keys`, so
// edits and deletes by others are repaired (level-triggered).
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
#include "lib/mesh/istio_objects.h"

namespace globalsvc::controller {

// The work-queue key of the peer Gateways (not a "<ns>/<name>" service key:
// it has no slash).
inline constexpr const char* kPeerGatewaysKey = "peer-gateways";

struct ObservedObject {
  std::string namespace_name;
  std::string name;
  std::string uid;
  bool managed = false;  // labelled app.kubernetes.io/managed-by=globalsvc
  std::string owner_key;
  std::string content_hash;
};

// The owner key of an object: "<ns>/<service>" from the parent-service labels
// of an object globalsvc owns, kPeerGatewaysKey for its Gateways; for an
// object it does not own, the key a name globalsvc writes would have
// ("autogen.<ns>.<svc>[.<hash>]", "globalsvc-remote-*"), so a foreign object
// in the way is noticed and never written over; nullopt otherwise.
[[nodiscard]] std::optional<std::string> OwnerKeyOf(const nlohmann::json& object);

class OwnedObjectObserver final : public kube::ReflectorSink {
 public:
  // `api_version` and `kind` are filled into objects that lack them (list
  // items of built-in kinds do), so every copy hashes alike.
  OwnedObjectObserver(std::string api_version, std::string kind, KeysCallback on_keys)
      : api_version_(std::move(api_version)),
        kind_(std::move(kind)),
        on_keys_(std::move(on_keys)) {}

  void BeginReplace() override;
  void ReplaceItem(nlohmann::json&& object) override;
  void EndReplace() override;
  void AbortReplace() override;
  void ApplyEvent(kube::WatchEventType type, nlohmann::json&& object) override;

  [[nodiscard]] bool synced() const { return synced_.load(); }
  [[nodiscard]] std::optional<ObservedObject> Get(const std::string& namespace_name,
                                                  const std::string& name) const;
  // The objects globalsvc owns under one owner key.
  [[nodiscard]] std::vector<ObservedObject> OwnedBy(const std::string& owner_key) const;
  // Owner keys of every object globalsvc owns.
  [[nodiscard]] std::vector<std::string> OwnerKeys() const;

  // Records the server's answer to our own write at once, so the next
  // reconcile does not act on the pre-write copy before the watch catches up.
  void RecordWritten(const nlohmann::json& object);
  void RecordDeleted(const std::string& namespace_name, const std::string& name);

 private:
  std::optional<std::string> Store(nlohmann::json& object);

  const std::string api_version_;
  const std::string kind_;
  KeysCallback on_keys_;
  mutable std::mutex mutex_;
  std::map<std::string, ObservedObject> objects_;  // "<ns>/<name>"
  std::unordered_set<std::string> listed_;
  std::atomic<bool> synced_{false};
};

}  // namespace globalsvc::controller
