#include "lib/failover/lint.h"

#include <algorithm>
#include <tuple>

#include "lib/failover/destination_rule.h"
#include "lib/failover/lint_index.h"
#include "lib/failover/lint_istio_objects.h"
#include "lib/failover/lint_mesh_labels.h"
#include "lib/failover/lint_rule.h"
#include "lib/failover/lint_segments.h"
#include "lib/failover/lint_topology.h"

namespace globalsvc::failover {

using mesh::Severity;

namespace {

// Each object goes to the rules for its kind; the index is built beforehand,
// so the objects' order decides only the order of findings.
void LintObject(const SourcedObject& sourced, LintContext& context) {
  const std::string kind = StringFieldAt(sourced.object, {"kind"});
  if (IsDestinationRule(sourced.object)) {
    LintDestinationRule(sourced, context);
  } else if (kind == "ServiceEntry") {
    LintServiceEntry(sourced, context);
  } else if (kind == "Service" || kind == "Namespace") {
    LintTrafficDistribution(sourced, context);
    LintTakeover(sourced, kind, context);
  } else if (kind == "Node") {
    LintNode(sourced, context);
  } else if (kind == "Deployment") {
    LintGateway(sourced, context);
  }
}

bool ObjectThenCode(const LintFinding& a, const LintFinding& b) {
  return std::tie(a.object.cluster, a.object.kind, a.object.namespace_name, a.object.name, a.code) <
         std::tie(b.object.cluster, b.object.kind, b.object.namespace_name, b.object.name, b.code);
}

}  // namespace

std::vector<LintFinding> Lint(std::span<const SourcedObject> objects, const LintOptions& options) {
  const LintIndex index = IndexObjects(objects, options);
  LintContext context{options, index, {}};
  for (const auto& sourced : objects)
    LintObject(sourced, context);
  LintSegments(objects, context);
  // Stable: one object's findings of one code keep the order they were found in.
  std::stable_sort(context.findings.begin(), context.findings.end(), ObjectThenCode);
  return std::move(context.findings);
}

std::string_view LintCodeName(LintCode code) {
  switch (code) {
    case LintCode::kInvalidObject:
      return "InvalidObject";
    case LintCode::kMissingOutlierDetection:
      return "MissingOutlierDetection";
    case LintCode::kFailoverPriorityOrder:
      return "FailoverPriorityOrder";
    case LintCode::kFailoverPriorityIncomplete:
      return "FailoverPriorityIncomplete";
    case LintCode::kFailoverPriorityDuplicate:
      return "FailoverPriorityDuplicate";
    case LintCode::kUnmatchedHost:
      return "UnmatchedHost";
    case LintCode::kUnknownTrafficDistribution:
      return "UnknownTrafficDistribution";
    case LintCode::kUpstreamTrafficDistribution:
      return "UpstreamTrafficDistribution";
    case LintCode::kMissingLocality:
      return "MissingLocality";
    case LintCode::kWaypointStopsAtNetwork:
      return "WaypointStopsAtNetwork";
    case LintCode::kTakeoverNotHonoured:
      return "TakeoverNotHonoured";
    case LintCode::kAliasCollision:
      return "AliasCollision";
    case LintCode::kSegmentScopeWithoutSegment:
      return "SegmentScopeWithoutSegment";
    case LintCode::kSegmentRefused:
      return "SegmentRefused";
  }
  return "Unknown";
}

bool HasLintErrors(const std::vector<LintFinding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const LintFinding& f) { return f.severity == Severity::kError; });
}

}  // namespace globalsvc::failover
