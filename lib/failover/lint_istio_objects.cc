#include "lib/failover/lint_istio_objects.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "lib/failover/destination_rule.h"
#include "lib/failover/lint_index.h"
#include "lib/failover/lint_mesh_labels.h"

namespace globalsvc::failover {

using mesh::kRegionLabel;
using mesh::kScopeLabel;
using mesh::kSubzoneLabel;
using mesh::kZoneLabel;
using mesh::Locality;
using mesh::ParseLocality;
using mesh::Severity;

namespace {

using nlohmann::json;

// Locality labels nest: region > zone > subzone. -1 for any other label.
int LocalityLevel(const std::string& entry) {
  const std::string key = entry.substr(0, entry.find('='));
  if (key == kRegionLabel) return 0;
  if (key == kZoneLabel) return 1;
  if (key == kSubzoneLabel) return 2;
  return -1;
}

const char* kLevelLabels[] = {kRegionLabel, kZoneLabel, kSubzoneLabel};

std::string Join(const std::vector<std::string>& labels) {
  std::string out = "[";
  for (std::size_t i = 0; i < labels.size(); ++i)
    out += (i ? ", " : "") + labels[i];
  return out + "]";
}

bool IsGlobalHost(const std::string& host, const LintOptions& options) {
  const std::string suffix = "." + options.host_suffix;
  return host.size() > suffix.size() && host.ends_with(suffix);
}

void LintDuplicateLabels(const SourcedObject& sourced, const std::vector<std::string>& labels,
                         LintContext& context) {
  std::set<std::string> seen;
  for (const auto& entry : labels) {
    const std::string key = entry.substr(0, entry.find('='));
    if (!seen.insert(key).second) {
      context.Add(Severity::kWarning, LintCode::kFailoverPriorityDuplicate, sourced,
                  "failoverPriority lists " + key +
                      " twice; the second one can never change an endpoint's priority",
                  "remove the repeated label");
    }
  }
}

// A finer label before a coarser one: when the finer one matches the coarser
// one does too, and when it differs Envoy stops comparing, so the coarser
// label never separates anything. Reports the first such pair only; true
// when there was one.
bool LintLabelOrder(const SourcedObject& sourced, const std::vector<std::string>& labels,
                    LintContext& context) {
  const std::string n = std::to_string(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const int finer = LocalityLevel(labels[i]);
    for (std::size_t k = i + 1; k < labels.size() && finer > 0; ++k) {
      const int coarser = LocalityLevel(labels[k]);
      if (coarser < 0 || coarser >= finer) continue;
      const std::string priority = std::to_string(labels.size() - i);
      context.Add(Severity::kError, LintCode::kFailoverPriorityOrder, sourced,
                  "failoverPriority " + Join(labels) + " lists " + kLevelLabels[coarser] +
                      " after the finer " + kLevelLabels[finer] + ": an endpoint in another " +
                      (finer == 1 ? "zone" : "subzone") + " of the client's " +
                      (coarser == 0 ? "region" : "zone") +
                      " and an endpoint elsewhere both differ first at " + kLevelLabels[finer] +
                      ", so both get priority " + priority + " of " + n +
                      " and share traffic equally; " + kLevelLabels[coarser] +
                      " never changes a priority",
                  "order locality labels from coarse to fine: " + Join(CoarseToFine(labels)));
      return true;
    }
  }
  return false;
}

// zone without region, or subzone without zone.
void LintMissingCoarserLabel(const SourcedObject& sourced, const std::vector<std::string>& labels,
                             LintContext& context) {
  std::set<int> levels;
  for (const auto& entry : labels)
    levels.insert(LocalityLevel(entry));
  for (const int level : {1, 2}) {
    if (!levels.contains(level) || levels.contains(level - 1)) continue;
    context.Add(Severity::kWarning, LintCode::kFailoverPriorityIncomplete, sourced,
                std::string("failoverPriority has ") + kLevelLabels[level] + " but not " +
                    kLevelLabels[level - 1] + ": an endpoint in another " +
                    (level == 1 ? "zone of the client's region" : "subzone of the client's zone") +
                    " gets the same priority as one in another " + (level == 1 ? "region" : "zone"),
                std::string("add ") + kLevelLabels[level - 1] + " before " + kLevelLabels[level]);
  }
}

void LintFailoverPriority(const SourcedObject& sourced, const std::vector<std::string>& labels,
                          LintContext& context) {
  if (labels.empty()) return;
  LintDuplicateLabels(sourced, labels, context);
  // The order error is the one to fix first: nothing more is said of this list.
  if (LintLabelOrder(sourced, labels, context)) return;
  LintMissingCoarserLabel(sourced, labels, context);
}

const char* const kAddOutlierDetection =
    "add spec.trafficPolicy.outlierDetection (for example consecutive5xxErrors: 5, "
    "interval: 10s, baseEjectionTime: 3m)";

// Only for hosts under the global suffix: other hosts are not globalsvc's.
void LintGlobalHostRule(const SourcedObject& sourced, const DestinationRule& rule,
                        LintContext& context) {
  if (!rule.has_outlier_detection && rule.has_locality_lb_setting && rule.locality_lb_enabled) {
    context.Add(Severity::kError, LintCode::kMissingOutlierDetection, sourced,
                "localityLbSetting for " + rule.host +
                    " has no effect without outlierDetection: Istio applies no locality "
                    "failover, so waypoints spread requests over every endpoint in every cluster",
                kAddOutlierDetection);
  } else if (!rule.has_outlier_detection) {
    context.Add(Severity::kWarning, LintCode::kMissingOutlierDetection, sourced,
                "without outlierDetection waypoints cannot eject endpoints that fail requests "
                "for " +
                    rule.host + ": traffic fails over only when pods stop being ready",
                kAddOutlierDetection);
  }
  if (!rule.host.starts_with("*") && !context.index.hosts.contains(rule.host)) {
    context.Add(Severity::kWarning, LintCode::kUnmatchedHost, sourced,
                "no ServiceEntry or global Service in the given objects has host " + rule.host +
                    ", so this rule applies to nothing",
                "check the host is <service>.<namespace>." + context.options.host_suffix +
                    " and the Service is labelled " + kScopeLabel + "=global");
  }
}

// Locality failover the rule turns on, for a host on several networks.
void LintWaypointNetworks(const SourcedObject& sourced, const DestinationRule& rule,
                          LintContext& context) {
  const auto it = context.index.host_networks.find(rule.host);
  if (it == context.index.host_networks.end() || it->second.size() <= 1 ||
      !rule.has_outlier_detection || (rule.has_locality_lb_setting && !rule.locality_lb_enabled)) {
    return;
  }
  context.Add(Severity::kInfo, LintCode::kWaypointStopsAtNetwork, sourced,
              rule.host + " has endpoints on " + std::to_string(it->second.size()) +
                  " networks, but upstream istiod (default mode) hands a waypoint only the "
                  "endpoints of its own network: this rule's failover at the waypoint never "
                  "leaves it, and once its network has no endpoint left, requests through the "
                  "waypoint fail; ztunnel alone (no waypoint) fails over across networks",
              "expect L7 failover within the network only (globalsvc explain --l7 shows it)");
}

}  // namespace

void LintDestinationRule(const SourcedObject& sourced, LintContext& context) {
  auto decoded = DecodeDestinationRule(sourced.object, sourced.cluster);
  if (!decoded.ok()) {
    context.Add(Severity::kError, LintCode::kInvalidObject, sourced, decoded.error().message,
                "fix the object so Istio accepts it");
    return;
  }
  const DestinationRule& rule = *decoded;
  if (IsGlobalHost(rule.host, context.options)) LintGlobalHostRule(sourced, rule, context);
  LintFailoverPriority(sourced, rule.failover_priority, context);
  LintWaypointNetworks(sourced, rule, context);
}

void LintServiceEntry(const SourcedObject& sourced, LintContext& context) {
  LintTrafficDistribution(sourced, context);
  const json* endpoints = FieldAt(sourced.object, {"spec", "endpoints"});
  if (endpoints == nullptr || !endpoints->is_array()) return;
  int missing = 0;
  for (const json& endpoint : *endpoints) {
    const Locality locality = ParseLocality(StringFieldAt(endpoint, {"locality"}));
    if (locality.region.empty() || locality.zone.empty()) ++missing;
  }
  if (missing == 0) return;
  context.Add(Severity::kWarning, LintCode::kMissingLocality, sourced,
              std::to_string(missing) + " of " + std::to_string(endpoints->size()) +
                  " endpoints have no region/zone locality: every client ranks them as another "
                  "region (or zone) and they only get traffic after failover",
              "label the nodes (or, for remote endpoints, the east-west gateway Deployment) with "
              "topology.kubernetes.io/region and topology.kubernetes.io/zone");
}

std::vector<std::string> CoarseToFine(const std::vector<std::string>& labels) {
  std::vector<std::size_t> slots;
  std::vector<std::string> locality;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (LocalityLevel(labels[i]) >= 0) {
      slots.push_back(i);
      locality.push_back(labels[i]);
    }
  }
  std::stable_sort(locality.begin(), locality.end(),
                   [](const std::string& a, const std::string& b) {
                     return LocalityLevel(a) < LocalityLevel(b);
                   });
  std::vector<std::string> ordered = labels;
  for (std::size_t i = 0; i < slots.size(); ++i)
    ordered[slots[i]] = locality[i];
  return ordered;
}

}  // namespace globalsvc::failover
