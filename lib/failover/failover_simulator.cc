#include "lib/failover/failover_simulator.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "lib/failover/ranking_failover_priority.h"
#include "lib/failover/ranking_ztunnel.h"

namespace globalsvc::failover {

using mesh::kNetworkLabel;
using mesh::kRegionLabel;
using mesh::kSubzoneLabel;
using mesh::kZoneLabel;
using mesh::Locality;
using mesh::LocalityScope;
using mesh::LocalityScopeName;
using mesh::ParseTrafficDistribution;
using mesh::RoutingPreference;
using mesh::TrafficDistribution;

namespace {

constexpr std::pair<const char*, FailureKind> kFailureKinds[] = {
    {"cluster", FailureKind::kCluster},
    {"region", FailureKind::kRegion},
    {"zone", FailureKind::kZone},
    {"endpoint", FailureKind::kEndpoint},
};

bool Hits(const Failure& failure, const FailoverEndpoint& endpoint) {
  switch (failure.kind) {
    case FailureKind::kCluster:
      return endpoint.cluster == failure.value;
    case FailureKind::kRegion:
      return endpoint.locality.region == failure.value;
    case FailureKind::kZone:
      return endpoint.locality.zone == failure.value;
    case FailureKind::kEndpoint:
      return !endpoint.address.empty() && endpoint.address == failure.value;
  }
  return false;
}

const Failure* FirstHit(const std::vector<Failure>& failures, const FailoverEndpoint& endpoint) {
  for (const auto& failure : failures) {
    if (Hits(failure, endpoint)) return &failure;
  }
  return nullptr;
}

// Applies the failures; returns the endpoints still up, fills `removed`.
std::vector<FailoverEndpoint> Survivors(const SimulationInput& input,
                                        std::vector<RemovedEndpoint>& removed) {
  std::vector<FailoverEndpoint> up;
  for (const auto& endpoint : input.endpoints) {
    if (const Failure* hit = FirstHit(input.failures, endpoint)) {
      removed.push_back({endpoint, FormatFailure(*hit)});
      continue;
    }
    if (!endpoint.is_gateway() || endpoint.behind.empty()) {
      up.push_back(endpoint);
      continue;
    }
    // A gateway only forwards to what is left behind it; the planner would
    // shrink its weight to that count, or drop it when nothing is left.
    FailoverEndpoint gateway = endpoint;
    gateway.behind.clear();
    for (const auto& inner : endpoint.behind) {
      if (const Failure* hit = FirstHit(input.failures, inner)) {
        removed.push_back(
            {inner, FormatFailure(*hit) + " (behind " + EndpointDisplayName(endpoint) + ")"});
      } else {
        gateway.behind.push_back(inner);
      }
    }
    if (gateway.behind.empty()) {
      removed.push_back({endpoint, "no endpoint left behind it"});
      continue;
    }
    gateway.weight = static_cast<std::uint32_t>(gateway.behind.size());
    up.push_back(std::move(gateway));
  }
  return up;
}

std::string JoinScopes(const std::vector<LocalityScope>& scopes) {
  std::string out = "[";
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    if (i > 0) out += ", ";
    out += LocalityScopeName(scopes[i]);
  }
  return out + "]";
}

std::string JoinLabels(const std::vector<std::string>& labels) {
  std::string out = "[";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    out += labels[i];
  }
  return out + "]";
}

// The waypoint enforces a traffic distribution as Envoy priorities over the
// same scopes. NODE has no endpoint label in a ServiceEntry, so it is dropped.
std::vector<std::string> ScopesAsLabels(const std::vector<LocalityScope>& scopes) {
  std::vector<std::string> labels;
  for (const auto scope : scopes) {
    switch (scope) {
      case LocalityScope::kNetwork:
        labels.emplace_back(kNetworkLabel);
        break;
      case LocalityScope::kRegion:
        labels.emplace_back(kRegionLabel);
        break;
      case LocalityScope::kZone:
        labels.emplace_back(kZoneLabel);
        break;
      case LocalityScope::kSubzone:
        labels.emplace_back(kSubzoneLabel);
        break;
      case LocalityScope::kNode:
        break;
    }
  }
  return labels;
}

std::string DistributionName(const std::string& value) {
  return value.empty() ? std::string("(none)") : value;
}

std::string RuleName(const DestinationRule& rule) {
  return "DestinationRule " + rule.namespace_name + "/" + rule.name;
}

}  // namespace

Result<Failure> ParseFailure(std::string_view text) {
  const auto eq = text.find('=');
  if (eq != std::string_view::npos && eq + 1 < text.size()) {
    const std::string_view key = text.substr(0, eq);
    for (const auto& [name, kind] : kFailureKinds) {
      if (key == name) return Failure{kind, std::string(text.substr(eq + 1))};
    }
  }
  return MakeError(
      ErrorCode::kInvalidInput,
      "failure '" + std::string(text) + "' is not cluster=NAME, region=R, zone=Z or endpoint=IP");
}

std::string FormatFailure(const Failure& failure) {
  for (const auto& [name, kind] : kFailureKinds) {
    if (kind == failure.kind) return std::string(name) + "=" + failure.value;
  }
  return failure.value;
}

RankingPolicy ChooseRankingPolicy(const SimulationInput& input, std::vector<std::string>& notes) {
  RankingPolicy policy;
  const TrafficDistribution distribution = ParseTrafficDistribution(input.traffic_distribution);
  const std::vector<LocalityScope> preference = RoutingPreference(distribution);
  if (!input.traffic_distribution.empty() && preference.empty()) {
    notes.push_back("traffic distribution '" + input.traffic_distribution +
                    "' is not one upstream istiod knows: ztunnel gets no locality preference");
  }

  if (input.data_plane == DataPlane::kZtunnel) {
    policy.kind = RankingKind::kZtunnelRank;
    policy.preference = preference;
    policy.description = "ztunnel, traffic distribution " +
                         DistributionName(input.traffic_distribution) + ", routing preference " +
                         JoinScopes(preference);
    return policy;
  }

  policy.kind = RankingKind::kEnvoyPriority;
  const auto& rule = input.destination_rule;
  if (rule && rule->has_locality_lb_setting &&
      (!rule->has_outlier_detection || !rule->locality_lb_enabled)) {
    policy.description = "waypoint, " + RuleName(*rule) + ": no locality failover";
    notes.push_back(rule->locality_lb_enabled
                        ? RuleName(*rule) +
                              " sets localityLbSetting without outlierDetection: Istio applies "
                              "no locality failover, every healthy endpoint shares traffic"
                        : RuleName(*rule) + " disables localityLbSetting");
    return policy;
  }
  if (rule && rule->has_outlier_detection && !rule->failover_priority.empty()) {
    policy.failover_priority = rule->failover_priority;
    policy.description = "waypoint, " + RuleName(*rule) + " failoverPriority " +
                         JoinLabels(policy.failover_priority);
    return policy;
  }
  if (!preference.empty()) {
    policy.failover_priority = ScopesAsLabels(preference);
    policy.description = "waypoint, traffic distribution " + input.traffic_distribution +
                         " as failoverPriority " + JoinLabels(policy.failover_priority);
    return policy;
  }
  if (rule && rule->has_outlier_detection) {
    // Locality match as Istio does it: a client without a subzone is not
    // compared on subzones.
    policy.failover_priority = {kRegionLabel, kZoneLabel};
    if (!input.client.locality.subzone.empty()) policy.failover_priority.push_back(kSubzoneLabel);
    policy.description = "waypoint, " + RuleName(*rule) +
                         " outlierDetection with Istio's default locality failover " +
                         JoinLabels(policy.failover_priority);
    return policy;
  }
  policy.description = "waypoint, no locality preference";
  return policy;
}

namespace {

// What upstream istiod (default mode) does when it builds a waypoint's EDS:
// an endpoint on another network goes only through that network's gateway,
// and only with Istio mTLS, which it assumes only of endpoints labelled
// security.istio.io/tlsMode=istio; the rest it leaves out.
void LeaveOutOtherNetworks(const FailoverClient& client, std::vector<FailoverEndpoint>& up,
                           Explanation& explanation) {
  if (client.network.empty()) return;
  std::vector<FailoverEndpoint> kept;
  std::vector<std::string> names;
  for (auto& endpoint : up) {
    const auto tls = endpoint.labels.find("security.istio.io/tlsMode");
    const bool mutual_tls = tls != endpoint.labels.end() && tls->second == "istio";
    if (endpoint.network.empty() || endpoint.network == client.network || mutual_tls) {
      kept.push_back(std::move(endpoint));
      continue;
    }
    names.push_back(EndpointDisplayName(endpoint));
    explanation.removed.push_back(
        {endpoint, "on network " + endpoint.network + ": upstream istiod gives a waypoint none"});
  }
  up = std::move(kept);
  if (names.empty()) return;
  std::string list;
  for (const auto& name : names)
    list += (list.empty() ? "" : ", ") + name;
  explanation.notes.push_back(
      list +
      ": on another network. Upstream istiod (default mode) hands a waypoint no endpoint "
      "there, so requests through the waypoint never fail over to it; ztunnel alone "
      "(no waypoint) does");
}

}  // namespace

namespace {

// An endpoint failure naming an address no endpoint has is a typo, not a
// failure: say so.
void NoteUnknownFailures(const SimulationInput& input, std::vector<std::string>& notes) {
  for (const auto& failure : input.failures) {
    if (failure.kind != FailureKind::kEndpoint) continue;
    const auto known = [&](const FailoverEndpoint& e) {
      return e.address == failure.value ||
             std::any_of(e.behind.begin(), e.behind.end(),
                         [&](const FailoverEndpoint& b) { return b.address == failure.value; });
    };
    if (std::none_of(input.endpoints.begin(), input.endpoints.end(), known)) {
      notes.push_back("no endpoint has address " + failure.value);
    }
  }
}

// The group that takes all traffic: shares by weight, and behind each
// gateway by the weights of what it reaches.
void ShareTraffic(RankedGroup& used) {
  used.share = 1.0;
  const double total =
      std::accumulate(used.endpoints.begin(), used.endpoints.end(), 0.0,
                      [](double sum, const RankedEndpoint& e) { return sum + e.endpoint.weight; });
  for (auto& ranked : used.endpoints) {
    ranked.share = total > 0 ? ranked.endpoint.weight / total : 0.0;
    const double inner_total =
        std::accumulate(ranked.endpoint.behind.begin(), ranked.endpoint.behind.end(), 0.0,
                        [](double sum, const FailoverEndpoint& e) { return sum + e.weight; });
    for (const auto& inner : ranked.endpoint.behind) {
      ranked.behind_share.push_back(inner_total > 0 ? ranked.share * inner.weight / inner_total
                                                    : 0.0);
    }
  }
}

}  // namespace

Explanation Explain(const SimulationInput& input) {
  Explanation explanation;
  explanation.policy = ChooseRankingPolicy(input, explanation.notes);
  NoteUnknownFailures(input, explanation.notes);

  std::vector<FailoverEndpoint> up = Survivors(input, explanation.removed);
  if (input.data_plane == DataPlane::kWaypoint && !input.waypoint_reaches_other_networks) {
    LeaveOutOtherNetworks(input.client, up, explanation);
  }
  const RankingPolicy& policy = explanation.policy;
  const TopologyLabels client_labels = ClientTopologyLabels(input.client);
  std::map<int, RankedGroup> by_score;
  for (const auto& endpoint : up) {
    const int score = policy.kind == RankingKind::kZtunnelRank
                          ? ZtunnelRank(policy.preference, input.client, endpoint)
                          : FailoverPriority(policy.failover_priority, client_labels,
                                             EndpointTopologyLabels(endpoint));
    RankedGroup& group = by_score[score];
    group.score = score;
    group.endpoints.push_back({endpoint, 0.0, {}});
  }
  for (auto& [score, group] : by_score)
    explanation.groups.push_back(std::move(group));
  if (policy.kind == RankingKind::kZtunnelRank) {
    std::reverse(explanation.groups.begin(), explanation.groups.end());
  }
  if (explanation.groups.empty()) {
    explanation.notes.push_back("no endpoint is left: requests fail");
    return explanation;
  }

  ShareTraffic(explanation.groups.front());
  for (std::size_t i = 1; i < explanation.groups.size(); ++i) {
    for (auto& ranked : explanation.groups[i].endpoints) {
      ranked.behind_share.assign(ranked.endpoint.behind.size(), 0.0);
    }
  }
  return explanation;
}

}  // namespace globalsvc::failover
