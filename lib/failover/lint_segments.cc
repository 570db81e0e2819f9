#include "lib/failover/lint_segments.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/mesh/cluster_builder.h"
#include "lib/mesh/planner.h"

namespace globalsvc::failover {

using mesh::ClusterBuilder;
using mesh::ClusterBuildOptions;
using mesh::ClusterState;
using mesh::Diagnostic;
using mesh::DiagnosticCode;
using mesh::kSegmentLabel;
using mesh::PlanOptions;
using mesh::Severity;

namespace {

// One ClusterState per named cluster, in cluster-name order.
std::vector<ClusterState> BuildClusters(std::span<const SourcedObject> objects,
                                        const LintOptions& options) {
  std::map<std::string, ClusterBuilder> builders;
  for (const auto& sourced : objects) {
    if (sourced.cluster.empty()) continue;
    auto it = builders.find(sourced.cluster);
    if (it == builders.end()) {
      ClusterBuildOptions build;
      build.cluster_name = sourced.cluster;
      build.control_plane_namespace = options.control_plane_namespace;
      it = builders.emplace(sourced.cluster, ClusterBuilder(build, nullptr)).first;
    }
    it->second.Add(sourced.object);
  }
  std::vector<ClusterState> clusters;
  for (auto& [name, builder] : builders)
    clusters.push_back(std::move(builder).Build());
  return clusters;
}

struct SegmentFinding {
  LintCode code;
  std::string fix;
};

// The lint code and fix for a planner diagnostic about segments or aliases;
// nullopt for the diagnostics other rules (or none) cover.
std::optional<SegmentFinding> SegmentFindingOf(const Diagnostic& d, const ClusterState& target) {
  switch (d.code) {
    case DiagnosticCode::kAliasCollision:
      return SegmentFinding{LintCode::kAliasCollision,
                            "give one of the services a label or annotation that makes its alias "
                            "its own, or an alias selector that leaves it out"};
    case DiagnosticCode::kSegmentScopeWithoutSegment:
      return SegmentFinding{
          LintCode::kSegmentScopeWithoutSegment,
          std::string("label the control-plane namespace ") + kSegmentLabel +
              "=<segment> with a Segment of that name, or use scope global or cluster"};
    case DiagnosticCode::kSegmentRefused:
      return SegmentFinding{LintCode::kSegmentRefused, "apply the remote's Segment in " +
                                                           target.name() + " with the same domain"};
    default:
      return std::nullopt;
  }
}

// A refused remote once per target, not once per service.
std::string OnceKey(LintCode code, const Diagnostic& d, const ClusterState& target) {
  if (code == LintCode::kSegmentRefused) return "refused|" + target.name() + "|" + d.object.cluster;
  return std::string(LintCodeName(code)) + "|" + d.object.cluster + "|" + d.object.namespace_name +
         "|" + d.object.name + "|" + d.message;
}

}  // namespace

void LintSegments(std::span<const SourcedObject> objects, LintContext& context) {
  const std::vector<ClusterState> clusters = BuildClusters(objects, context.options);
  std::vector<const ClusterState*> views;
  for (const auto& cluster : clusters)
    views.push_back(&cluster);
  std::set<std::string> seen;
  for (const auto& cluster : clusters) {
    PlanOptions plan;
    plan.target_cluster = cluster.name();
    plan.host_suffix = context.options.host_suffix;
    plan.control_plane_namespace = context.options.control_plane_namespace;
    for (const Diagnostic& d : PlanCluster(views, plan).diagnostics) {
      auto finding = SegmentFindingOf(d, cluster);
      if (!finding || !seen.insert(OnceKey(finding->code, d, cluster)).second) continue;
      context.findings.push_back(
          {Severity::kWarning, finding->code, d.object, d.message, std::move(finding->fix)});
    }
  }
}

}  // namespace globalsvc::failover
