#include "lib/failover/lint_mesh_labels.h"

#include <optional>

#include "lib/failover/lint_index.h"
#include "lib/mesh/scope.h"
#include "lib/mesh/takeover.h"
#include "lib/mesh/traffic_distribution.h"

namespace globalsvc::failover {

using mesh::DecideScope;
using mesh::IsKnownTrafficDistribution;
using mesh::kManagedByLabel;
using mesh::kManagedByValue;
using mesh::kScopeLabel;
using mesh::kServiceTakeoverLabel;
using mesh::kTrafficDistributionAnnotation;
using mesh::ParseTakeover;
using mesh::ScopeDecision;
using mesh::ScopeValue;
using mesh::Severity;
using mesh::TakeoverValue;
using mesh::WrittenTrafficDistribution;

namespace {

using nlohmann::json;

// The Service's own label, else its Namespace's; global-only asks for
// takeover when neither says.
bool TakeoverWanted(const std::optional<std::string>& label,
                    const std::pair<std::string, std::string>& namespace_key,
                    const ScopeDecision& scope, const LintIndex& index) {
  std::optional<std::string> said = label;
  if (!said) {
    const auto it = index.namespace_takeover.find(namespace_key);
    if (it != index.namespace_takeover.end()) said = it->second;
  }
  return ParseTakeover(said) == TakeoverValue::kTrue ||
         (!said && scope.value == ScopeValue::kGlobalOnly);
}

// A Service that asks for takeover: istiod honours it only on a global
// Service with a selector.
void LintServiceTakeover(const SourcedObject& sourced, const std::optional<std::string>& label,
                         LintContext& context) {
  const std::string ns = StringFieldAt(sourced.object, {"metadata", "namespace"});
  const std::pair<std::string, std::string> key{sourced.cluster, ns};
  const auto scope_it = context.index.namespace_scope.find(key);
  const ScopeDecision scope = DecideScope(
      OptionalStringAt(sourced.object, {"metadata", "labels", kScopeLabel}),
      scope_it == context.index.namespace_scope.end() ? std::nullopt : scope_it->second);
  if (!TakeoverWanted(label, key, scope, context.index)) return;
  const std::string name = StringFieldAt(sourced.object, {"metadata", "name"});
  const std::string local_name = name + "." + ns + ".svc.<cluster domain>";
  if (!scope.exported) {
    context.Add(Severity::kWarning, LintCode::kTakeoverNotHonoured, sourced,
                "takeover is asked for a Service that is not global here: " + local_name +
                    " keeps this cluster's endpoints only, in this cluster",
                std::string("label the Service ") + kScopeLabel + "=global, or drop " +
                    kServiceTakeoverLabel);
    return;
  }
  const json* selector = FieldAt(sourced.object, {"spec", "selector"});
  if (!selector || !selector->is_object() || selector->empty()) {
    context.Add(
        Severity::kWarning, LintCode::kTakeoverNotHonoured, sourced,
        "takeover of a Service without a selector: upstream istiod adds other clusters' "
        "endpoints to a Service only through WorkloadEntries its selector matches, so " +
            local_name + " keeps this cluster's endpoints",
        "clients can use " + name + "." + ns + "." + context.options.host_suffix + " instead");
  }
}

}  // namespace

void LintTakeover(const SourcedObject& sourced, const std::string& kind, LintContext& context) {
  const auto label =
      OptionalStringAt(sourced.object, {"metadata", "labels", kServiceTakeoverLabel});
  if (ParseTakeover(label) == TakeoverValue::kInvalid) {
    context.Add(Severity::kWarning, LintCode::kTakeoverNotHonoured, sourced,
                std::string(kServiceTakeoverLabel) + " is '" + *label +
                    "'; only 'true' and 'false' count, so it decides nothing",
                std::string("set ") + kServiceTakeoverLabel + "=true or =false");
    return;
  }
  if (kind == "Service") LintServiceTakeover(sourced, label, context);
}

void LintTrafficDistribution(const SourcedObject& sourced, LintContext& context) {
  const auto value =
      OptionalStringAt(sourced.object, {"metadata", "annotations", kTrafficDistributionAnnotation});
  if (!value || value->empty()) return;
  if (!IsKnownTrafficDistribution(*value)) {
    context.Add(Severity::kWarning, LintCode::kUnknownTrafficDistribution, sourced,
                std::string(kTrafficDistributionAnnotation) + " '" + *value +
                    "' is not a value istiod knows: ztunnel applies no locality preference and "
                    "spreads requests over every endpoint in every cluster",
                "use PreferClose (or PreferSameZone) or PreferSameNode; PreferNetwork and "
                "PreferRegion are written as PreferClose");
    return;
  }
  const std::string written = WrittenTrafficDistribution(*value);
  if (written == *value) return;
  const bool service_entry = StringFieldAt(sourced.object, {"kind"}) == "ServiceEntry";
  if (service_entry &&
      StringFieldAt(sourced.object, {"metadata", "labels", kManagedByLabel}) == kManagedByValue) {
    context.Add(
        Severity::kInfo, LintCode::kUpstreamTrafficDistribution, sourced,
        std::string(kTrafficDistributionAnnotation) + " '" + *value +
            "' was written by an earlier globalsvc; upstream istiod gives it no preference",
        "nothing to do: the controller rewrites it as " + written + " at its next reconcile");
    return;
  }
  if (service_entry) {
    context.Add(
        Severity::kWarning, LintCode::kUpstreamTrafficDistribution, sourced,
        std::string(kTrafficDistributionAnnotation) + " '" + *value +
            "' on a ServiceEntry is unknown to upstream istiod: ztunnel applies no locality "
            "preference and spreads requests over every endpoint in every cluster",
        "use " + written + " (requests stay on the client's network while it has endpoints)");
    return;
  }
  context.Add(
      Severity::kInfo, LintCode::kUpstreamTrafficDistribution, sourced,
      std::string(kTrafficDistributionAnnotation) + " '" + *value +
          "' is unknown to upstream istiod, so globalsvc writes " + written +
          ": requests stay on the client's network while it has endpoints, as asked, but "
          "also prefer the client's region and then its zone (the client's zone gets every "
          "request while it has endpoints, instead of all zones of its network)",
      "set " + written + " to say so; nothing upstream spreads over one network's zones only");
}

}  // namespace globalsvc::failover
