#include "lib/failover/destination_rule.h"

#include "lib/base/json_fields.h"

namespace globalsvc::failover {
namespace {

using nlohmann::json;

const json* Field(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

bool IsDestinationRule(const json& object) {
  return object.is_object() && StringFieldAt(object, {"kind"}) == "DestinationRule" &&
         StringFieldAt(object, {"apiVersion"}).rfind("networking.istio.io/", 0) == 0;
}

Result<DestinationRule> DecodeDestinationRule(const json& object, const std::string& cluster) {
  DestinationRule rule;
  rule.cluster = cluster;
  const json* metadata = Field(object, "metadata");
  const json* spec = Field(object, "spec");
  if (metadata == nullptr || spec == nullptr || !spec->is_object()) {
    return MakeError(ErrorCode::kInvalidInput, "DestinationRule without metadata or spec");
  }
  rule.namespace_name = StringFieldAt(*metadata, {"namespace"});
  rule.name = StringFieldAt(*metadata, {"name"});
  rule.creation_timestamp = StringFieldAt(*metadata, {"creationTimestamp"});
  rule.host = StringFieldAt(*spec, {"host"});
  if (rule.host.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "DestinationRule " + rule.namespace_name + "/" +
                                                   rule.name + ": spec.host is missing");
  }
  const json* policy = Field(*spec, "trafficPolicy");
  if (policy == nullptr) return rule;
  rule.has_outlier_detection = Field(*policy, "outlierDetection") != nullptr;
  const json* load_balancer = Field(*policy, "loadBalancer");
  const json* locality = load_balancer ? Field(*load_balancer, "localityLbSetting") : nullptr;
  if (locality == nullptr) return rule;
  rule.has_locality_lb_setting = true;
  if (const json* enabled = Field(*locality, "enabled"); enabled != nullptr) {
    if (!enabled->is_boolean()) {
      return MakeError(ErrorCode::kInvalidInput,
                       "DestinationRule " + rule.namespace_name + "/" + rule.name +
                           ": localityLbSetting.enabled is not a boolean");
    }
    rule.locality_lb_enabled = enabled->get<bool>();
  }
  if (const json* priority = Field(*locality, "failoverPriority"); priority != nullptr) {
    if (!priority->is_array()) {
      return MakeError(ErrorCode::kInvalidInput,
                       "DestinationRule " + rule.namespace_name + "/" + rule.name +
                           ": localityLbSetting.failoverPriority is not a list");
    }
    for (const json& label : *priority) {
      if (!label.is_string() || label.get<std::string>().empty()) {
        return MakeError(ErrorCode::kInvalidInput,
                         "DestinationRule " + rule.namespace_name + "/" + rule.name +
                             ": failoverPriority holds a non-string or empty entry");
      }
      rule.failover_priority.push_back(label.get<std::string>());
    }
  }
  return rule;
}

}  // namespace globalsvc::failover
