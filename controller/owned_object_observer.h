#pragma once

// What the local cluster holds of one kind of object globalsvc writes in the
// WorkloadEntry shape (ServiceEntries, WorkloadEntries, peer Gateways): a
// kube::Cache, fed by a reflector, of per object (by "<namespace>/<name>") its
// uid, whether globalsvc owns it, its owner key and the hash of the fields
// globalsvc owns (mesh::OwnedContentHash); objects that are neither ours nor
// in our way are not kept. Any change hands the owner keys it touches to
// `on_keys`, so edits and deletes by others are repaired (level-triggered).
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
  bool operator==(const ObservedObject&) const = default;
};

// The owner key of an object: "<ns>/<service>" from the parent-service labels
// of an object globalsvc owns, kPeerGatewaysKey for its Gateways; for an
// object it does not own, the key a name globalsvc writes would have
// ("autogen.<ns>.<svc>[.<hash>]", "globalsvc-remote-*"), so a foreign object
// in the way is noticed and never written over; nullopt otherwise.
[[nodiscard]] std::optional<std::string> OwnerKeyOf(const nlohmann::json& object);

// The reflector feeds it as a kube::ReflectorSink.
class OwnedObjectObserver final : public kube::CachedSink<ObservedObject> {
 public:
  // `api_version` and `kind` are filled into objects that lack them (list
  // items of built-in kinds do), so every copy hashes alike.
  OwnedObjectObserver(std::string api_version, std::string kind, KeysCallback on_keys);

  [[nodiscard]] bool synced() const { return cache_.HasSynced(); }
  [[nodiscard]] std::optional<ObservedObject> Get(const std::string& namespace_name,
                                                  const std::string& name) const;
  // The objects globalsvc owns under one owner key.
  [[nodiscard]] std::vector<ObservedObject> OwnedBy(const std::string& owner_key) const;
  // Owner keys of every object globalsvc owns.
  [[nodiscard]] std::vector<std::string> OwnerKeys() const;

  // Records the server's answer to our own write at once, so the next
  // reconcile does not act on the pre-write copy before the watch catches up.
  void RecordWritten(const nlohmann::json& object) { cache_.Record(object); }
  void RecordDeleted(const std::string& namespace_name, const std::string& name) {
    cache_.Forget(kube::ObjectKey(namespace_name, name));
  }

 private:
  [[nodiscard]] std::optional<ObservedObject> Project(const nlohmann::json& object) const;

  const std::string api_version_;
  const std::string kind_;
};

}  // namespace globalsvc::controller
