#pragma once

// Whether a Service is exported mesh-wide (solo.io/service-scope): the label on
// the Service wins, else the label on its Namespace.

#include <optional>
#include <string>

namespace globalsvc::mesh {

enum class ScopeValue {
  kUnset,       // label absent
  kGlobal,      // "global"
  kGlobalOnly,  // "global-only": deprecated spelling of global with takeover
  kSegment,     // "segment": exported within the cluster's segment only
  kCluster,     // "cluster"
  kLocal,       // "local"
  kEmpty,       // label present with an empty value
  kUnknown,
};

[[nodiscard]] ScopeValue ParseScope(const std::optional<std::string>& label);

struct ScopeDecision {
  bool exported = false;
  ScopeValue value = ScopeValue::kUnset;
  bool from_namespace = false;  // the Namespace label decided
  std::string raw;              // the label value that decided, for messages
};

[[nodiscard]] ScopeDecision DecideScope(const std::optional<std::string>& service_label,
                                        const std::optional<std::string>& namespace_label);

}  // namespace globalsvc::mesh
