#include "lib/mesh/takeover.h"

namespace globalsvc::mesh {

TakeoverValue ParseTakeover(const std::optional<std::string>& label) {
  if (!label) return TakeoverValue::kUnset;
  if (*label == "true") return TakeoverValue::kTrue;
  if (*label == "false") return TakeoverValue::kFalse;
  return TakeoverValue::kInvalid;
}

TakeoverDecision DecideTakeover(std::span<const TakeoverVoice> by_precedence) {
  TakeoverDecision decision;
  bool decided = false;
  auto hear = [&](const std::optional<std::string>& label, std::string where) {
    const TakeoverValue value = ParseTakeover(label);
    if (value == TakeoverValue::kInvalid) {
      decision.invalid.push_back(where + ": '" + *label + "'");
      return;
    }
    if (decided || value == TakeoverValue::kUnset) return;
    decided = true;
    decision.takeover = value == TakeoverValue::kTrue;
    decision.decided_by = std::move(where);
  };
  for (const TakeoverVoice& voice : by_precedence) {
    hear(voice.service_label, "the Service in " + voice.cluster);
    hear(voice.namespace_label, "the Namespace in " + voice.cluster);
  }
  if (decided) return decision;
  for (const TakeoverVoice& voice : by_precedence) {
    if (!voice.global_only) continue;
    decision.takeover = true;
    decision.decided_by = "the global-only scope in " + voice.cluster;
    break;
  }
  return decision;
}

}  // namespace globalsvc::mesh
