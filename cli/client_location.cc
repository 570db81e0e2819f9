#include "cli/client_location.h"

#include <algorithm>
#include <string>
#include <vector>

namespace globalsvc::cli {

Result<failover::ClientLocation> ParseClientLocation(std::string_view text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  const bool any_empty =
      std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); });
  if (parts.size() < 2 || parts.size() > 4 || any_empty) {
    return MakeError(
        ErrorCode::kInvalidInput,
        "--from '" + std::string(text) +
            "' is not CLUSTER/ZONE, CLUSTER/REGION/ZONE or CLUSTER/REGION/ZONE/SUBZONE");
  }
  failover::ClientLocation location;
  location.cluster = parts[0];
  if (parts.size() == 2) {
    location.locality.zone = parts[1];
  } else {
    location.locality.region = parts[1];
    location.locality.zone = parts[2];
    if (parts.size() == 4) location.locality.subzone = parts[3];
  }
  return location;
}

}  // namespace globalsvc::cli
