#pragma once

// The status of one global service as `kubectl get globalservices` shows it
// (crds/globalsvc.io_globalservices.yaml): host, ServiceEntry, endpoints
// by cluster, conflicts and input problems, built from the plan and the
// reconcile's outcome. Pure: the same input gives the same JSON, and
// StatusHash() of it equals StatusHash() of the copy the API server returns,
// so an unchanged service is never written again (also after a restart).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/mesh/cluster_state.h"
#include "lib/mesh/diagnostic.h"
#include "lib/mesh/service_entry.h"

namespace globalsvc::controller {

// The status field the writer sets when it writes; not part of the hash.
inline constexpr const char* kLastChangeTimeField = "lastChangeTime";
// At most this many diagnostics are listed (a broken input can yield one per endpoint).
inline constexpr std::size_t kMaxStatusDiagnostics = 20;

enum class ServiceEntryState {
  kSynced,    // the ServiceEntry holds the plan
  kConflict,  // a ServiceEntry of the same name not owned by globalsvc exists
  kError,     // the last write failed; retried
};

struct ServiceStatusInput {
  const mesh::ServiceEntry* entry = nullptr;  // the plan; required
  const mesh::Diagnostics* diagnostics = nullptr;
  // Clusters where the Service is global, even with no ready endpoint.
  std::vector<std::string> exporting_clusters;
  ServiceEntryState state = ServiceEntryState::kSynced;
  std::string message;  // what went wrong, for kConflict and kError
};

[[nodiscard]] nlohmann::json BuildServiceStatus(const ServiceStatusInput& input);

// Stable hash of a status (built, or as stored), without lastChangeTime.
[[nodiscard]] std::string StatusHash(const nlohmann::json& status);
// The same hash from the compact text (dump()) of a status without
// lastChangeTime, such as BuildServiceStatus() returns: no second dump.
[[nodiscard]] std::string StatusTextHash(std::string_view text);

// "<namespace>.<service>": the GlobalService object's name.
[[nodiscard]] std::string GlobalServiceName(const std::string& service_namespace,
                                            const std::string& service_name);
// "<namespace>.<service>" -> "<namespace>/<service>"; nullopt for other names.
[[nodiscard]] std::optional<std::string> KeyOfGlobalServiceName(const std::string& name);

// Whether `cluster` holds the Service and exports it (its scope label, else
// its Namespace's, says global).
[[nodiscard]] bool ExportsService(const mesh::ClusterState& cluster,
                                  const std::string& service_namespace,
                                  const std::string& service_name);

}  // namespace globalsvc::controller
