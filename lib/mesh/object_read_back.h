#pragma once

// The objects of the WorkloadEntry shape read back as the plan they came
// from: what an earlier run wrote, for carrying a remote's endpoints over
// while it is unreachable and for the CLI's view of live objects.

#include <nlohmann/json.hpp>
#include <vector>

#include "lib/mesh/service_entry.h"

namespace globalsvc::mesh {

// A ServiceEntry of this shape: it selects WorkloadEntries by
// kGlobalServiceLabel.
[[nodiscard]] bool SelectsWorkloadEntries(const nlohmann::json& service_entry);

// The ServiceEntries of this shape read back with their endpoints taken from
// the WorkloadEntries that carry the same parent-service labels, as the
// inline shape holds them: what an earlier run wrote, for CarryOver.
[[nodiscard]] std::vector<ServiceEntry> EntriesFromObjects(
    const std::vector<nlohmann::json>& service_entries,
    const std::vector<nlohmann::json>& workload_entries);

}  // namespace globalsvc::mesh
