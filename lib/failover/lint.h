#pragma once

// The failover linter: configurations that look right and do not fail over as
// intended. Pure: takes the objects read from files (or, later, from clusters)
// and returns findings, each with a fix.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/failover/failover_input.h"
#include "lib/mesh/diagnostic.h"
#include "lib/mesh/model.h"

namespace globalsvc::failover {

enum class LintCode {
  kInvalidObject,
  kMissingOutlierDetection,     // a DestinationRule for a global host: no failover at L7
  kFailoverPriorityOrder,       // a coarser locality label after a finer one
  kFailoverPriorityIncomplete,  // zone without region, subzone without zone
  kFailoverPriorityDuplicate,
  kUnmatchedHost,  // DestinationRule host that no ServiceEntry or global Service has
  kUnknownTrafficDistribution,
  // PreferNetwork or PreferRegion: unknown to upstream istiod. On a Service
  // globalsvc writes PreferClose for it (info); on a ServiceEntry it gives no
  // preference (warning).
  kUpstreamTrafficDistribution,
  kMissingLocality,  // ServiceEntry endpoints, gateways or nodes without region/zone
  // A DestinationRule's locality failover for a global host with endpoints on
  // several networks: upstream istiod gives a waypoint only its own network's.
  kWaypointStopsAtNetwork,
  // solo.io/service-takeover that is invalid, or asked where upstream istiod
  // cannot apply it (a Service not global, or without a selector).
  kTakeoverNotHonoured,
  // Segments, judged by planning each cluster as the controller would: two
  // services expanding to one alias, scope "segment" in a cluster of no
  // segment, a remote refused for a segment the cluster has no copy of.
  kAliasCollision,
  kSegmentScopeWithoutSegment,
  kSegmentRefused,
};

struct LintFinding {
  mesh::Severity severity = mesh::Severity::kWarning;
  LintCode code = LintCode::kInvalidObject;
  mesh::ObjectRef object;
  std::string message;
  std::string fix;
};

struct LintOptions {
  std::string host_suffix = "mesh.internal";
  std::string control_plane_namespace = mesh::kDefaultControlPlaneNamespace;
};

// Findings in a stable order: by object (cluster, kind, namespace, name), then code.
[[nodiscard]] std::vector<LintFinding> Lint(std::span<const SourcedObject> objects,
                                            const LintOptions& options);

[[nodiscard]] std::string_view LintCodeName(LintCode code);
[[nodiscard]] bool HasLintErrors(const std::vector<LintFinding>& findings);

// The failoverPriority with its locality labels in coarse-to-fine order, other
// labels left where they are: [zone, region] becomes [region, zone].
[[nodiscard]] std::vector<std::string> CoarseToFine(const std::vector<std::string>& labels);

}  // namespace globalsvc::failover
