#include "lib/failover/lint_topology.h"

namespace globalsvc::failover {

using mesh::kNetworkLabel;
using mesh::kRegionLabel;
using mesh::kZoneLabel;
using mesh::Severity;

namespace {

bool HasRegionAndZone(const nlohmann::json& object) {
  return !StringFieldAt(object, {"metadata", "labels", kRegionLabel}).empty() &&
         !StringFieldAt(object, {"metadata", "labels", kZoneLabel}).empty();
}

}  // namespace

void LintNode(const SourcedObject& sourced, LintContext& context) {
  if (HasRegionAndZone(sourced.object)) return;
  context.Add(Severity::kWarning, LintCode::kMissingLocality, sourced,
              "node without topology.kubernetes.io/region or topology.kubernetes.io/zone: "
              "endpoints on it get no locality and zone/region failover cannot prefer them",
              "label the node topology.kubernetes.io/region and topology.kubernetes.io/zone");
}

void LintGateway(const SourcedObject& sourced, LintContext& context) {
  const bool gateway =
      StringFieldAt(sourced.object, {"metadata", "namespace"}) ==
          context.options.control_plane_namespace &&
      OptionalStringAt(sourced.object, {"metadata", "labels", kNetworkLabel}).has_value();
  if (!gateway || HasRegionAndZone(sourced.object)) return;
  context.Add(Severity::kWarning, LintCode::kMissingLocality, sourced,
              "east-west gateway without topology.kubernetes.io/region or "
              "topology.kubernetes.io/zone labels: the remote endpoints exposed through it get "
              "no locality in other clusters",
              "label the Deployment topology.kubernetes.io/region and topology.kubernetes.io/zone");
}

}  // namespace globalsvc::failover
