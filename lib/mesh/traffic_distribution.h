#pragma once

// networking.istio.io/traffic-distribution values: what a user may ask for,
// what globalsvc writes for it, and the routing preference upstream istiod
// then hands ztunnel (an ordered list of locality scopes).

#include <string>
#include <string_view>
#include <vector>

namespace globalsvc::mesh {

inline constexpr const char* kDefaultTrafficDistribution = "PreferNetwork";

enum class LocalityScope { kNetwork, kRegion, kZone, kSubzone, kNode };

enum class TrafficDistribution {
  kPreferNetwork,
  kPreferRegion,
  kPreferClose,  // also PreferSameZone
  kPreferSameNode,
  kUnknown,  // ztunnel applies no locality preference
};

// Case-insensitive, as ztunnel compares them.
[[nodiscard]] TrafficDistribution ParseTrafficDistribution(std::string_view value);

[[nodiscard]] bool IsKnownTrafficDistribution(std::string_view value);

// The value written on a ServiceEntry for a requested one. Upstream istiod
// understands only PreferClose, PreferSameZone and PreferSameNode; PreferNetwork
// (the guide's default) and PreferRegion would give no preference at all, so
// ztunnel would spread requests over every cluster. They are written as
// PreferClose, the closest behaviour upstream expresses: requests stay on the
// client's network while it has endpoints (preferring its region, then its
// zone) and fail over to other networks only then. Other values unchanged.
[[nodiscard]] std::string WrittenTrafficDistribution(std::string_view requested);

// The routing preference upstream istiod hands ztunnel for a value on a
// ServiceEntry or Service (services.go: PreferClose/PreferSameZone and
// PreferSameNode); empty, no preference, for every other value.
[[nodiscard]] std::vector<LocalityScope> RoutingPreference(TrafficDistribution distribution);

[[nodiscard]] std::string_view LocalityScopeName(LocalityScope scope);

}  // namespace globalsvc::mesh
