#pragma once

// The part of an Istio DestinationRule (networking.istio.io) that decides
// locality failover: the top-level trafficPolicy's localityLbSetting and
// whether outlierDetection is set. portLevelSettings and subsets are not read.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lib/base/result.h"

namespace globalsvc::failover {

struct DestinationRule {
  std::string cluster;  // where it was read from; empty when unknown
  std::string namespace_name;
  std::string name;
  std::string host;
  std::string creation_timestamp;
  bool has_locality_lb_setting = false;
  bool locality_lb_enabled = true;  // localityLbSetting.enabled; Istio's default is on
  std::vector<std::string> failover_priority;
  // Envoy only fails over between priorities when it can tell endpoints are
  // unhealthy; Istio therefore applies locality failover only with this set.
  bool has_outlier_detection = false;
};

[[nodiscard]] bool IsDestinationRule(const nlohmann::json& object);

// Errors (kInvalidInput) name the field that could not be read.
[[nodiscard]] Result<DestinationRule> DecodeDestinationRule(const nlohmann::json& object,
                                                            const std::string& cluster);

}  // namespace globalsvc::failover
