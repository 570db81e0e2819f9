#include "lib/failover/lint.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "lib/failover/destination_rule.h"
#include "lib/mesh/cluster_builder.h"
#include "lib/mesh/planner.h"
#include "lib/mesh/scope.h"
#include "lib/mesh/takeover.h"
#include "lib/mesh/traffic_distribution.h"

namespace globalsvc::failover {

using mesh::ClusterBuilder;
using mesh::ClusterBuildOptions;
using mesh::ClusterState;
using mesh::DecideScope;
using mesh::Diagnostic;
using mesh::DiagnosticCode;
using mesh::IsKnownTrafficDistribution;
using mesh::kManagedByLabel;
using mesh::kManagedByValue;
using mesh::kNetworkLabel;
using mesh::kRegionLabel;
using mesh::kScopeLabel;
using mesh::kSegmentLabel;
using mesh::kServiceTakeoverLabel;
using mesh::kSubzoneLabel;
using mesh::kTrafficDistributionAnnotation;
using mesh::kZoneLabel;
using mesh::Locality;
using mesh::ObjectRef;
using mesh::ParseLocality;
using mesh::ParseTakeover;
using mesh::PlanOptions;
using mesh::ScopeDecision;
using mesh::ScopeValue;
using mesh::Segment;
using mesh::Severity;
using mesh::TakeoverValue;
using mesh::WrittenTrafficDistribution;

namespace {

using nlohmann::json;

const json* At(const json& object, std::initializer_list<const char*> path) {
  const json* at = &object;
  for (const char* key : path) {
    if (!at->is_object()) return nullptr;
    const auto it = at->find(key);
    if (it == at->end() || it->is_null()) return nullptr;
    at = &*it;
  }
  return at;
}

std::optional<std::string> OptionalString(const json& object,
                                          std::initializer_list<const char*> path) {
  const json* at = At(object, path);
  if (at == nullptr || !at->is_string()) return std::nullopt;
  return at->get<std::string>();
}

std::string String(const json& object, std::initializer_list<const char*> path) {
  return OptionalString(object, path).value_or("");
}

ObjectRef RefOf(const SourcedObject& sourced) {
  return {sourced.cluster, String(sourced.object, {"kind"}),
          String(sourced.object, {"metadata", "namespace"}),
          String(sourced.object, {"metadata", "name"})};
}

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

class Linter {
 public:
  Linter(std::span<const SourcedObject> objects, const LintOptions& options)
      : objects_(objects), options_(options) {}

  std::vector<LintFinding> Run() {
    CollectHosts();
    for (const auto& sourced : objects_) {
      const std::string kind = String(sourced.object, {"kind"});
      if (IsDestinationRule(sourced.object)) {
        LintDestinationRule(sourced);
      } else if (kind == "ServiceEntry") {
        LintServiceEntry(sourced);
      } else if (kind == "Service" || kind == "Namespace") {
        LintTrafficDistribution(sourced);
        LintTakeover(sourced, kind);
      } else if (kind == "Node") {
        LintNode(sourced);
      } else if (kind == "Deployment") {
        LintGateway(sourced);
      }
    }
    LintSegments();
    std::stable_sort(
        findings_.begin(), findings_.end(), [](const LintFinding& a, const LintFinding& b) {
          return std::tie(a.object.cluster, a.object.kind, a.object.namespace_name, a.object.name,
                          a.code) < std::tie(b.object.cluster, b.object.kind,
                                             b.object.namespace_name, b.object.name, b.code);
        });
    return std::move(findings_);
  }

 private:
  void Add(Severity severity, LintCode code, const SourcedObject& sourced, std::string message,
           std::string fix) {
    findings_.push_back({severity, code, RefOf(sourced), std::move(message), std::move(fix)});
  }

  bool IsGlobalHost(const std::string& host) const {
    const std::string suffix = "." + options_.host_suffix;
    return host.size() > suffix.size() && host.ends_with(suffix);
  }

  // Hosts some ServiceEntry serves, or some Service labelled global will get.
  void CollectHosts() {
    auto& namespace_scope = namespace_scope_;
    for (const auto& sourced : objects_) {
      if (String(sourced.object, {"kind"}) == "Namespace") {
        const std::pair<std::string, std::string> key{sourced.cluster,
                                                      String(sourced.object, {"metadata", "name"})};
        namespace_scope[key] = OptionalString(sourced.object, {"metadata", "labels", kScopeLabel});
        namespace_takeover_[key] =
            OptionalString(sourced.object, {"metadata", "labels", kServiceTakeoverLabel});
      }
    }
    for (const auto& sourced : objects_) {
      const std::string kind = String(sourced.object, {"kind"});
      if (kind == "ServiceEntry") {
        std::set<std::string> networks;
        if (const json* endpoints = At(sourced.object, {"spec", "endpoints"});
            endpoints && endpoints->is_array()) {
          for (const json& endpoint : *endpoints) {
            const std::string network = String(endpoint, {"network"});
            if (!network.empty()) networks.insert(network);
          }
        }
        if (const json* hosts = At(sourced.object, {"spec", "hosts"}); hosts && hosts->is_array()) {
          for (const json& host : *hosts) {
            if (!host.is_string()) continue;
            hosts_.insert(host.get<std::string>());
            host_networks_[host.get<std::string>()].insert(networks.begin(), networks.end());
          }
        }
      } else if (kind == "Service") {
        const std::string ns = String(sourced.object, {"metadata", "namespace"});
        const auto it = namespace_scope.find({sourced.cluster, ns});
        const auto decision =
            DecideScope(OptionalString(sourced.object, {"metadata", "labels", kScopeLabel}),
                        it == namespace_scope.end() ? std::nullopt : it->second);
        if (decision.exported) {
          hosts_.insert(String(sourced.object, {"metadata", "name"}) + "." + ns + "." +
                        options_.host_suffix);
        }
      }
    }
  }

  // Takeover upstream istiod cannot honour, judged from one cluster's objects.
  void LintTakeover(const SourcedObject& sourced, const std::string& kind) {
    const auto label =
        OptionalString(sourced.object, {"metadata", "labels", kServiceTakeoverLabel});
    if (ParseTakeover(label) == TakeoverValue::kInvalid) {
      Add(Severity::kWarning, LintCode::kTakeoverNotHonoured, sourced,
          std::string(kServiceTakeoverLabel) + " is '" + *label +
              "'; only 'true' and 'false' count, so it decides nothing",
          std::string("set ") + kServiceTakeoverLabel + "=true or =false");
      return;
    }
    if (kind != "Service") return;
    const std::string ns = String(sourced.object, {"metadata", "namespace"});
    const std::pair<std::string, std::string> key{sourced.cluster, ns};
    const auto scope_it = namespace_scope_.find(key);
    const ScopeDecision scope =
        DecideScope(OptionalString(sourced.object, {"metadata", "labels", kScopeLabel}),
                    scope_it == namespace_scope_.end() ? std::nullopt : scope_it->second);
    std::optional<std::string> said = label;
    if (!said) {
      const auto it = namespace_takeover_.find(key);
      if (it != namespace_takeover_.end()) said = it->second;
    }
    const bool wanted = ParseTakeover(said) == TakeoverValue::kTrue ||
                        (!said && scope.value == ScopeValue::kGlobalOnly);
    if (!wanted) return;
    const std::string name = String(sourced.object, {"metadata", "name"});
    const std::string local_name = name + "." + ns + ".svc.<cluster domain>";
    if (!scope.exported) {
      Add(Severity::kWarning, LintCode::kTakeoverNotHonoured, sourced,
          "takeover is asked for a Service that is not global here: " + local_name +
              " keeps this cluster's endpoints only, in this cluster",
          std::string("label the Service ") + kScopeLabel + "=global, or drop " +
              kServiceTakeoverLabel);
      return;
    }
    const json* selector = At(sourced.object, {"spec", "selector"});
    if (!selector || !selector->is_object() || selector->empty()) {
      Add(Severity::kWarning, LintCode::kTakeoverNotHonoured, sourced,
          "takeover of a Service without a selector: upstream istiod adds other clusters' "
          "endpoints to a Service only through WorkloadEntries its selector matches, so " +
              local_name + " keeps this cluster's endpoints",
          "clients can use " + name + "." + ns + "." + options_.host_suffix + " instead");
    }
  }

  // Plans every named cluster as the target, with the others as its remotes,
  // and reports the segment problems the planner finds, once each.
  void LintSegments() {
    std::map<std::string, ClusterBuilder> builders;
    for (const auto& sourced : objects_) {
      if (sourced.cluster.empty()) continue;
      auto it = builders.find(sourced.cluster);
      if (it == builders.end()) {
        ClusterBuildOptions build;
        build.cluster_name = sourced.cluster;
        build.control_plane_namespace = options_.control_plane_namespace;
        it = builders.emplace(sourced.cluster, ClusterBuilder(build, nullptr)).first;
      }
      it->second.Add(sourced.object);
    }
    std::vector<ClusterState> clusters;
    for (auto& [name, builder] : builders)
      clusters.push_back(std::move(builder).Build());
    std::vector<const ClusterState*> views;
    for (const auto& cluster : clusters)
      views.push_back(&cluster);
    std::set<std::string> seen;
    for (const auto& cluster : clusters) {
      PlanOptions plan;
      plan.target_cluster = cluster.name();
      plan.host_suffix = options_.host_suffix;
      plan.control_plane_namespace = options_.control_plane_namespace;
      for (const Diagnostic& d : PlanCluster(views, plan).diagnostics) {
        LintCode code;
        std::string fix;
        if (d.code == DiagnosticCode::kAliasCollision) {
          code = LintCode::kAliasCollision;
          fix =
              "give one of the services a label or annotation that makes its alias its own, "
              "or an alias selector that leaves it out";
        } else if (d.code == DiagnosticCode::kSegmentScopeWithoutSegment) {
          code = LintCode::kSegmentScopeWithoutSegment;
          fix = std::string("label the control-plane namespace ") + kSegmentLabel +
                "=<segment> with a Segment of that name, or use scope global or cluster";
        } else if (d.code == DiagnosticCode::kSegmentRefused) {
          code = LintCode::kSegmentRefused;
          fix = "apply the remote's Segment in " + cluster.name() + " with the same domain";
        } else {
          continue;
        }
        // A refused remote once per target, not once per service.
        const std::string once = code == LintCode::kSegmentRefused
                                     ? "refused|" + cluster.name() + "|" + d.object.cluster
                                     : std::string(LintCodeName(code)) + "|" + d.object.cluster +
                                           "|" + d.object.namespace_name + "|" + d.object.name +
                                           "|" + d.message;
        if (!seen.insert(once).second) continue;
        findings_.push_back({Severity::kWarning, code, d.object, d.message, fix});
      }
    }
  }

  void LintDestinationRule(const SourcedObject& sourced) {
    auto decoded = DecodeDestinationRule(sourced.object, sourced.cluster);
    if (!decoded.ok()) {
      Add(Severity::kError, LintCode::kInvalidObject, sourced, decoded.error().message,
          "fix the object so Istio accepts it");
      return;
    }
    const DestinationRule& rule = *decoded;
    if (IsGlobalHost(rule.host)) {
      if (!rule.has_outlier_detection && rule.has_locality_lb_setting && rule.locality_lb_enabled) {
        Add(Severity::kError, LintCode::kMissingOutlierDetection, sourced,
            "localityLbSetting for " + rule.host +
                " has no effect without outlierDetection: Istio applies no locality failover, so "
                "waypoints spread requests over every endpoint in every cluster",
            "add spec.trafficPolicy.outlierDetection (for example consecutive5xxErrors: 5, "
            "interval: 10s, baseEjectionTime: 3m)");
      } else if (!rule.has_outlier_detection) {
        Add(Severity::kWarning, LintCode::kMissingOutlierDetection, sourced,
            "without outlierDetection waypoints cannot eject endpoints that fail requests for " +
                rule.host + ": traffic fails over only when pods stop being ready",
            "add spec.trafficPolicy.outlierDetection (for example consecutive5xxErrors: 5, "
            "interval: 10s, baseEjectionTime: 3m)");
      }
      if (!rule.host.starts_with("*") && !hosts_.contains(rule.host)) {
        Add(Severity::kWarning, LintCode::kUnmatchedHost, sourced,
            "no ServiceEntry or global Service in the given objects has host " + rule.host +
                ", so this rule applies to nothing",
            "check the host is <service>.<namespace>." + options_.host_suffix +
                " and the Service is labelled " + kScopeLabel + "=global");
      }
    }
    LintFailoverPriority(sourced, rule.failover_priority);
    if (const auto it = host_networks_.find(rule.host);
        it != host_networks_.end() && it->second.size() > 1 && rule.has_outlier_detection &&
        (!rule.has_locality_lb_setting || rule.locality_lb_enabled)) {
      Add(Severity::kInfo, LintCode::kWaypointStopsAtNetwork, sourced,
          rule.host + " has endpoints on " + std::to_string(it->second.size()) +
              " networks, but upstream istiod (default mode) hands a waypoint only the endpoints "
              "of its own network: this rule's failover at the waypoint never leaves it, and "
              "once its network has no endpoint left, requests through the waypoint fail; "
              "ztunnel alone (no waypoint) fails over across networks",
          "expect L7 failover within the network only (globalsvc explain --l7 shows it)");
    }
  }

  void LintFailoverPriority(const SourcedObject& sourced, const std::vector<std::string>& labels) {
    if (labels.empty()) return;
    const std::string n = std::to_string(labels.size());
    std::set<std::string> seen;
    for (const auto& entry : labels) {
      const std::string key = entry.substr(0, entry.find('='));
      if (!seen.insert(key).second) {
        Add(Severity::kWarning, LintCode::kFailoverPriorityDuplicate, sourced,
            "failoverPriority lists " + key +
                " twice; the second one can never change an endpoint's priority",
            "remove the repeated label");
      }
    }
    // A finer label before a coarser one: when the finer one matches the
    // coarser one does too, and when it differs Envoy stops comparing, so the
    // coarser label never separates anything.
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const int finer = LocalityLevel(labels[i]);
      for (std::size_t k = i + 1; k < labels.size() && finer > 0; ++k) {
        const int coarser = LocalityLevel(labels[k]);
        if (coarser < 0 || coarser >= finer) continue;
        const std::string priority = std::to_string(labels.size() - i);
        Add(Severity::kError, LintCode::kFailoverPriorityOrder, sourced,
            "failoverPriority " + Join(labels) + " lists " + kLevelLabels[coarser] +
                " after the finer " + kLevelLabels[finer] + ": an endpoint in another " +
                (finer == 1 ? "zone" : "subzone") + " of the client's " +
                (coarser == 0 ? "region" : "zone") +
                " and an endpoint elsewhere both differ first at " + kLevelLabels[finer] +
                ", so both get priority " + priority + " of " + n + " and share traffic equally; " +
                kLevelLabels[coarser] + " never changes a priority",
            "order locality labels from coarse to fine: " + Join(CoarseToFine(labels)));
        return;
      }
    }
    std::set<int> levels;
    for (const auto& entry : labels)
      levels.insert(LocalityLevel(entry));
    for (const int level : {1, 2}) {
      if (!levels.contains(level) || levels.contains(level - 1)) continue;
      Add(Severity::kWarning, LintCode::kFailoverPriorityIncomplete, sourced,
          std::string("failoverPriority has ") + kLevelLabels[level] + " but not " +
              kLevelLabels[level - 1] + ": an endpoint in another " +
              (level == 1 ? "zone of the client's region" : "subzone of the client's zone") +
              " gets the same priority as one in another " + (level == 1 ? "region" : "zone"),
          std::string("add ") + kLevelLabels[level - 1] + " before " + kLevelLabels[level]);
    }
  }

  void LintServiceEntry(const SourcedObject& sourced) {
    LintTrafficDistribution(sourced);
    const json* endpoints = At(sourced.object, {"spec", "endpoints"});
    if (endpoints == nullptr || !endpoints->is_array()) return;
    int missing = 0;
    for (const json& endpoint : *endpoints) {
      const Locality locality = ParseLocality(String(endpoint, {"locality"}));
      if (locality.region.empty() || locality.zone.empty()) ++missing;
    }
    if (missing == 0) return;
    Add(Severity::kWarning, LintCode::kMissingLocality, sourced,
        std::to_string(missing) + " of " + std::to_string(endpoints->size()) +
            " endpoints have no region/zone locality: every client ranks them as another "
            "region (or zone) and they only get traffic after failover",
        "label the nodes (or, for remote endpoints, the east-west gateway Deployment) with "
        "topology.kubernetes.io/region and topology.kubernetes.io/zone");
  }

  void LintTrafficDistribution(const SourcedObject& sourced) {
    const auto value =
        OptionalString(sourced.object, {"metadata", "annotations", kTrafficDistributionAnnotation});
    if (!value || value->empty()) return;
    if (!IsKnownTrafficDistribution(*value)) {
      Add(Severity::kWarning, LintCode::kUnknownTrafficDistribution, sourced,
          std::string(kTrafficDistributionAnnotation) + " '" + *value +
              "' is not a value istiod knows: ztunnel applies no locality preference and "
              "spreads requests over every endpoint in every cluster",
          "use PreferClose (or PreferSameZone) or PreferSameNode; PreferNetwork and "
          "PreferRegion are written as PreferClose");
      return;
    }
    const std::string written = WrittenTrafficDistribution(*value);
    if (written == *value) return;
    if (String(sourced.object, {"kind"}) == "ServiceEntry" &&
        String(sourced.object, {"metadata", "labels", kManagedByLabel}) == kManagedByValue) {
      Add(Severity::kInfo, LintCode::kUpstreamTrafficDistribution, sourced,
          std::string(kTrafficDistributionAnnotation) + " '" + *value +
              "' was written by an earlier globalsvc; upstream istiod gives it no preference",
          "nothing to do: the controller rewrites it as " + written + " at its next reconcile");
      return;
    }
    if (String(sourced.object, {"kind"}) == "ServiceEntry") {
      Add(Severity::kWarning, LintCode::kUpstreamTrafficDistribution, sourced,
          std::string(kTrafficDistributionAnnotation) + " '" + *value +
              "' on a ServiceEntry is unknown to upstream istiod: ztunnel applies no locality "
              "preference and spreads requests over every endpoint in every cluster",
          "use " + written + " (requests stay on the client's network while it has endpoints)");
      return;
    }
    Add(Severity::kInfo, LintCode::kUpstreamTrafficDistribution, sourced,
        std::string(kTrafficDistributionAnnotation) + " '" + *value +
            "' is unknown to upstream istiod, so globalsvc writes " + written +
            ": requests stay on the client's network while it has endpoints, as asked, but "
            "also prefer the client's region and then its zone (the client's zone gets every "
            "request while it has endpoints, instead of all zones of its network)",
        "set " + written + " to say so; nothing upstream spreads over one network's zones only");
  }

  void LintNode(const SourcedObject& sourced) {
    if (!String(sourced.object, {"metadata", "labels", kRegionLabel}).empty() &&
        !String(sourced.object, {"metadata", "labels", kZoneLabel}).empty()) {
      return;
    }
    Add(Severity::kWarning, LintCode::kMissingLocality, sourced,
        "node without topology.kubernetes.io/region or topology.kubernetes.io/zone: endpoints "
        "on it get no locality and zone/region failover cannot prefer them",
        "label the node topology.kubernetes.io/region and topology.kubernetes.io/zone");
  }

  void LintGateway(const SourcedObject& sourced) {
    const bool gateway =
        String(sourced.object, {"metadata", "namespace"}) == options_.control_plane_namespace &&
        OptionalString(sourced.object, {"metadata", "labels", kNetworkLabel}).has_value();
    if (!gateway) return;
    if (!String(sourced.object, {"metadata", "labels", kRegionLabel}).empty() &&
        !String(sourced.object, {"metadata", "labels", kZoneLabel}).empty()) {
      return;
    }
    Add(Severity::kWarning, LintCode::kMissingLocality, sourced,
        "east-west gateway without topology.kubernetes.io/region or topology.kubernetes.io/zone "
        "labels: the remote endpoints exposed through it get no locality in other clusters",
        "label the Deployment topology.kubernetes.io/region and topology.kubernetes.io/zone");
  }

  std::span<const SourcedObject> objects_;
  std::map<std::pair<std::string, std::string>, std::optional<std::string>> namespace_scope_;
  std::map<std::pair<std::string, std::string>, std::optional<std::string>> namespace_takeover_;
  const LintOptions& options_;
  std::set<std::string> hosts_;
  std::vector<LintFinding> findings_;
  // The networks of each host's ServiceEntry endpoints.
  std::map<std::string, std::set<std::string>> host_networks_;
};

}  // namespace

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

std::vector<LintFinding> Lint(std::span<const SourcedObject> objects, const LintOptions& options) {
  return Linter(objects, options).Run();
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
