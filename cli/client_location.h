#pragma once

#include <string_view>

#include "lib/base/result.h"
#include "lib/failover/failover_input.h"

namespace globalsvc::cli {

// --from: "CLUSTER/ZONE", "CLUSTER/REGION/ZONE" or "CLUSTER/REGION/ZONE/SUBZONE".
[[nodiscard]] Result<failover::ClientLocation> ParseClientLocation(std::string_view text);

}  // namespace globalsvc::cli
