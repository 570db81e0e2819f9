#include "lib/mesh/scope.h"

namespace globalsvc::mesh {

ScopeValue ParseScope(const std::optional<std::string>& label) {
  if (!label) return ScopeValue::kUnset;
  const std::string& v = *label;
  if (v.empty()) return ScopeValue::kEmpty;
  if (v == "global") return ScopeValue::kGlobal;
  if (v == "global-only") return ScopeValue::kGlobalOnly;
  if (v == "segment") return ScopeValue::kSegment;
  if (v == "cluster") return ScopeValue::kCluster;
  if (v == "local") return ScopeValue::kLocal;
  return ScopeValue::kUnknown;
}

ScopeDecision DecideScope(const std::optional<std::string>& service_label,
                          const std::optional<std::string>& namespace_label) {
  ScopeDecision decision;
  // A label present on the Service, even empty, is an explicit choice and wins.
  const bool service_decides = service_label.has_value();
  const std::optional<std::string>& deciding = service_decides ? service_label : namespace_label;
  decision.value = ParseScope(deciding);
  decision.from_namespace = !service_decides && namespace_label.has_value();
  decision.raw = deciding.value_or("");
  decision.exported = decision.value == ScopeValue::kGlobal ||
                      decision.value == ScopeValue::kGlobalOnly ||
                      decision.value == ScopeValue::kSegment;
  return decision;
}

}  // namespace globalsvc::mesh
