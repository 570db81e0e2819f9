#pragma once

// What lint's rule modules (lint_*.h) share: reading a label that may be
// absent, and adding findings about the object a rule looks at.

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/json_fields.h"
#include "lib/failover/failover_input.h"
#include "lib/failover/lint.h"

namespace globalsvc::failover {

struct LintIndex;

// The string at `path`, or nullopt when absent or not a string: unlike
// StringFieldAt, an empty label stays apart from a missing one, which decides
// whether a Service inherits its Namespace's scope or takeover.
inline std::optional<std::string> OptionalStringAt(const nlohmann::json& object,
                                                   std::initializer_list<std::string_view> path) {
  const nlohmann::json* at = FieldAt(object, path);
  if (at == nullptr || !at->is_string()) return std::nullopt;
  return at->get<std::string>();
}

inline mesh::ObjectRef RefOf(const SourcedObject& sourced) {
  return {sourced.cluster, StringFieldAt(sourced.object, {"kind"}),
          StringFieldAt(sourced.object, {"metadata", "namespace"}),
          StringFieldAt(sourced.object, {"metadata", "name"})};
}

// One lint run: what every rule may read, and the findings so far, in the
// order the rules found them (Lint sorts them stably at the end).
struct LintContext {
  const LintOptions& options;
  const LintIndex& index;
  std::vector<LintFinding> findings;

  void Add(mesh::Severity severity, LintCode code, const SourcedObject& sourced,
           std::string message, std::string fix) {
    findings.push_back({severity, code, RefOf(sourced), std::move(message), std::move(fix)});
  }
};

}  // namespace globalsvc::failover
