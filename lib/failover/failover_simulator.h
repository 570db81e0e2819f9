#pragma once

// The failover simulator: given a client, the endpoints of one ServiceEntry,
// the DestinationRule a waypoint would apply and a set of failures, computes
// where requests go. Pure: no I/O, no clocks; sampling uses an explicit seed.
//
// What is modelled (see README.failover.md for the reasoning):
// - A failure removes endpoints, as a scaled-down or failed pod leaves the
//   ServiceEntry. A gateway aggregate goes when its cluster fails, when its own
//   region/zone fails, or when every endpoint behind it is gone; otherwise its
//   weight becomes the number of endpoints left behind it.
// - ztunnel (L4): ranks by the ServiceEntry's traffic distribution.
// - Waypoint (L7): Envoy priorities. Precedence: the DestinationRule's
//   failoverPriority (only with outlierDetection); a DestinationRule
//   localityLbSetting without outlierDetection, or disabled, means no locality
//   failover at all; else the traffic distribution mapped to labels; else, with
//   outlierDetection, Istio's default locality failover [region, zone(, subzone)].
// - Upstream istiod (default mode) gives a waypoint no endpoint on another
//   network: those are left out at L7 (SimulationInput says otherwise).
// - All traffic goes to the best group; inside it, by endpoint weight. Envoy's
//   partial-health spillover (overprovisioning factor) is not modelled: failed
//   endpoints are gone, the rest are healthy.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/failover/destination_rule.h"
#include "lib/failover/failover_model.h"
#include "lib/mesh/traffic_distribution.h"

namespace globalsvc::failover {

enum class FailureKind { kCluster, kRegion, kZone, kEndpoint };

struct Failure {
  FailureKind kind = FailureKind::kCluster;
  std::string value;
};

// "cluster=X", "region=R", "zone=Z" or "endpoint=IP".
[[nodiscard]] Result<Failure> ParseFailure(std::string_view text);
[[nodiscard]] std::string FormatFailure(const Failure& failure);

enum class DataPlane { kZtunnel, kWaypoint };

struct SimulationInput {
  FailoverClient client;  // at L7: the waypoint's location
  std::vector<FailoverEndpoint> endpoints;
  std::string traffic_distribution;  // the ServiceEntry's annotation; empty when absent
  DataPlane data_plane = DataPlane::kZtunnel;
  std::optional<DestinationRule> destination_rule;  // read at L7 only
  std::vector<Failure> failures;
  // Upstream istiod in its default mode hands a waypoint no endpoint on
  // another network (one not labelled security.istio.io/tlsMode=istio), so a
  // waypoint never fails over across networks; only ztunnel does. True
  // models a control plane that gives waypoints those endpoints (Solo's).
  bool waypoint_reaches_other_networks = false;
};

enum class RankingKind {
  kZtunnelRank,    // higher is better
  kEnvoyPriority,  // lower is better
};

struct RankingPolicy {
  RankingKind kind = RankingKind::kZtunnelRank;
  std::vector<mesh::LocalityScope> preference;  // kZtunnelRank
  std::vector<std::string> failover_priority;   // kEnvoyPriority; empty: one priority
  std::string description;                      // for people, e.g. in `explain`
};

[[nodiscard]] RankingPolicy ChooseRankingPolicy(const SimulationInput& input,
                                                std::vector<std::string>& notes);

struct RankedEndpoint {
  FailoverEndpoint endpoint;
  double share = 0;                  // of all requests, 0..1
  std::vector<double> behind_share;  // per endpoint.behind, of all requests
};

struct RankedGroup {
  int score = 0;  // the ztunnel rank or the Envoy priority of every endpoint in it
  std::vector<RankedEndpoint> endpoints;  // in input order
  double share = 0;                       // 1 for the group in use, else 0
};

struct RemovedEndpoint {
  FailoverEndpoint endpoint;
  std::string reason;  // the failure, e.g. "cluster=cluster1"
};

struct Explanation {
  RankingPolicy policy;
  std::vector<RankedGroup> groups;  // best first; groups[0] takes every request
  std::vector<RemovedEndpoint> removed;
  std::vector<std::string> notes;
};

[[nodiscard]] Explanation Explain(const SimulationInput& input);

}  // namespace globalsvc::failover
