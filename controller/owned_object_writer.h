#pragma once

// The one way globalsvc writes the objects it owns: ServiceEntries,
// WorkloadEntries and peer Gateways (their writers) and the GlobalService and
// RemoteCluster status objects. One policy for every kind:
// - an object that exists and is not ours (no managed-by label) is never
//   written or deleted: the caller says what it observed, and the writer
//   refuses a foreign one;
// - what is created or applied whole carries the managed-by label;
// - server-side apply with the field manager `globalsvc`, forced, since the
//   fields are ours;
// - a status object is created, never applied into being, so a name someone
//   took meanwhile is never taken over (kConflict tells the caller);
// - a delete carries the uid observed, so a newer object of the same name is
//   never deleted; one already gone counts as deleted;
// - nothing is written while `may_write` says no (not the leader).
//
// Threads: as thread-safe as the ObjectApi under it (KubeClient is).

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "lib/base/result.h"
#include "lib/kube/object_api.h"

namespace globalsvc::controller {

inline constexpr const char* kFieldManager = "globalsvc";

// What the caller last observed of the object it is about to write.
enum class Observed { kAbsent, kOurs, kForeign };

enum class Deleted { kNow, kAlreadyGone };

class OwnedObjectWriter {
 public:
  // Without `may_write`, writing is always allowed (the caller gates it).
  explicit OwnedObjectWriter(kube::ObjectApi& client, std::function<bool()> may_write = {});

  // Applies the whole object, which must carry the managed-by label.
  [[nodiscard]] Result<nlohmann::json> Apply(const kube::ResourceType& type,
                                             std::string_view namespace_name,
                                             const nlohmann::json& object, Observed observed);
  // Applies `object`'s status subresource (apiVersion, kind, metadata.name
  // and status) to an object observed as ours.
  [[nodiscard]] Result<nlohmann::json> ApplyStatus(const kube::ResourceType& type,
                                                   std::string_view namespace_name,
                                                   const nlohmann::json& object, Observed observed);
  // Creates the object, which must carry the managed-by label; kConflict
  // when its name is taken.
  [[nodiscard]] Result<nlohmann::json> Create(const kube::ResourceType& type,
                                              std::string_view namespace_name,
                                              const nlohmann::json& object);
  // Deletes the object of that name and uid; kAlreadyGone when it was,
  // kConflict when the name now holds another object.
  [[nodiscard]] Result<Deleted> Delete(const kube::ResourceType& type,
                                       std::string_view namespace_name, std::string_view name,
                                       const std::string& uid);

  [[nodiscard]] bool may_write() const { return !may_write_ || may_write_(); }

 private:
  // Why `object` may not be written now, if it may not.
  [[nodiscard]] std::optional<Error> Refusal(const nlohmann::json& object, Observed observed,
                                             bool whole) const;

  kube::ObjectApi& client_;
  const std::function<bool()> may_write_;
};

}  // namespace globalsvc::controller
