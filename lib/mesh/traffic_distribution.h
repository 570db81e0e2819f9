#pragma once

// networking.istio.io/traffic-distribution values and what ztunnel does with
// them: an ordered routing preference over locality scopes.

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

// The routing preference ztunnel derives from a value; empty for unknown values.
[[nodiscard]] std::vector<LocalityScope> RoutingPreference(TrafficDistribution distribution);

[[nodiscard]] std::string_view LocalityScopeName(LocalityScope scope);

}  // namespace globalsvc::mesh
