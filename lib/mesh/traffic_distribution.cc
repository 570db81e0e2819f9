#include "lib/mesh/traffic_distribution.h"

#include <algorithm>
#include <cctype>

namespace globalsvc::mesh {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

TrafficDistribution ParseTrafficDistribution(std::string_view value) {
  if (EqualsIgnoreCase(value, "PreferNetwork")) return TrafficDistribution::kPreferNetwork;
  if (EqualsIgnoreCase(value, "PreferRegion")) return TrafficDistribution::kPreferRegion;
  if (EqualsIgnoreCase(value, "PreferClose") || EqualsIgnoreCase(value, "PreferSameZone")) {
    return TrafficDistribution::kPreferClose;
  }
  if (EqualsIgnoreCase(value, "PreferSameNode")) return TrafficDistribution::kPreferSameNode;
  return TrafficDistribution::kUnknown;
}

bool IsKnownTrafficDistribution(std::string_view value) {
  return ParseTrafficDistribution(value) != TrafficDistribution::kUnknown;
}

std::string WrittenTrafficDistribution(std::string_view requested) {
  switch (ParseTrafficDistribution(requested)) {
    case TrafficDistribution::kPreferNetwork:
    case TrafficDistribution::kPreferRegion:
      return "PreferClose";
    case TrafficDistribution::kPreferClose:
    case TrafficDistribution::kPreferSameNode:
    case TrafficDistribution::kUnknown:
      break;
  }
  return std::string(requested);
}

std::vector<LocalityScope> RoutingPreference(TrafficDistribution distribution) {
  using S = LocalityScope;
  switch (distribution) {
    case TrafficDistribution::kPreferNetwork:
    case TrafficDistribution::kPreferRegion:
      return {};  // unknown to upstream istiod
    case TrafficDistribution::kPreferClose:
      return {S::kNetwork, S::kRegion, S::kZone};
    case TrafficDistribution::kPreferSameNode:
      return {S::kNetwork, S::kRegion, S::kZone, S::kSubzone, S::kNode};
    case TrafficDistribution::kUnknown:
      return {};
  }
  return {};
}

std::string_view LocalityScopeName(LocalityScope scope) {
  switch (scope) {
    case LocalityScope::kNetwork:
      return "NETWORK";
    case LocalityScope::kRegion:
      return "REGION";
    case LocalityScope::kZone:
      return "ZONE";
    case LocalityScope::kSubzone:
      return "SUBZONE";
    case LocalityScope::kNode:
      return "NODE";
  }
  return "UNKNOWN";
}

}  // namespace globalsvc::mesh
