#include "lib/mesh/planner.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "lib/mesh/plan_aliases.h"
#include "lib/mesh/plan_contributor.h"
#include "lib/mesh/plan_endpoint_cap.h"
#include "lib/mesh/plan_endpoints.h"
#include "lib/mesh/plan_ports.h"
#include "lib/mesh/plan_segments.h"
#include "lib/mesh/plan_takeover.h"
#include "lib/mesh/plan_traffic_distribution.h"
#include "lib/mesh/scope.h"
#include "lib/mesh/segments.h"

namespace globalsvc::mesh {
namespace {

// The service account of the waypoint `c`'s cluster sends the service
// through, "<namespace>/<name>"; empty without one. As istiod reads it: the
// Service's istio.io/use-waypoint, else its Namespace's, where "none" means
// none; the namespace comes from the same object's use-waypoint-namespace,
// else it is the Service's. istiod deploys a waypoint with a ServiceAccount
// named after its Gateway.
std::string WaypointAccount(const Contributor& c) {
  const Service& service = *c.service;
  std::optional<std::string> name = service.waypoint_label;
  std::optional<std::string> waypoint_namespace = service.waypoint_namespace_label;
  if (!name) {
    if (const Namespace* ns = c.cluster->FindNamespace(service.namespace_name)) {
      name = ns->waypoint_label;
      waypoint_namespace = ns->waypoint_namespace_label;
    }
  }
  if (!name || name->empty() || *name == "none") return {};
  return waypoint_namespace.value_or(service.namespace_name) + "/" + *name;
}

std::string ScopeHint(const std::string& raw) {
  std::string lowered = raw;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (const char* known : {"global", "global-only", "segment", "cluster", "local"}) {
    if (lowered == known) return std::string(" (did you mean '") + known + "'?)";
  }
  return "";
}

std::vector<Contributor> FindContributors(const std::string& key, std::string_view ns,
                                          const std::vector<const ClusterState*>& clusters,
                                          Diagnostics& diagnostics) {
  std::vector<Contributor> contributors;
  for (const ClusterState* cluster : clusters) {
    const Service* service = cluster->FindService(key);
    if (!service) continue;
    const Namespace* namespace_object = cluster->FindNamespace(std::string(ns));
    const ScopeDecision scope = DecideScope(
        service->scope_label, namespace_object ? namespace_object->scope_label : std::nullopt);
    if (scope.value == ScopeValue::kUnknown) {
      Report(diagnostics, Severity::kWarning, DiagnosticCode::kUnknownScope,
             ServiceRef(*cluster, *service),
             std::string("unknown ") + kScopeLabel + " value '" + scope.raw + "'" +
                 (scope.from_namespace ? " on its namespace" : "") + ScopeHint(scope.raw) +
                 "; the service is not exported (use global, segment, cluster or local)");
    } else if (scope.value == ScopeValue::kGlobalOnly) {
      Report(diagnostics, Severity::kInfo, DiagnosticCode::kDeprecatedScope,
             ServiceRef(*cluster, *service),
             std::string(kScopeLabel) + "=global-only is deprecated; use global with " +
                 kServiceTakeoverLabel + "=true");
    }
    // A dormant record (or slice) is incomplete until it is read again: the
    // cluster contributes as it did before it was exported.
    if (scope.exported && !service->dormant && !cluster->HasDormantSlices(key)) {
      contributors.push_back({cluster, service, scope.value});
    }
  }
  return contributors;
}

std::vector<const ClusterState*> SortedClusters(std::span<const ClusterState* const> clusters) {
  std::vector<const ClusterState*> sorted(clusters.begin(), clusters.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const ClusterState* a, const ClusterState* b) { return a->name() < b->name(); });
  return sorted;
}

const ClusterState* FindTarget(const std::vector<const ClusterState*>& clusters,
                               const PlanOptions& options, Diagnostics& diagnostics) {
  for (const ClusterState* cluster : clusters) {
    if (cluster->name() == options.target_cluster) return cluster;
  }
  Report(diagnostics, Severity::kError, DiagnosticCode::kUnknownCluster,
         {options.target_cluster, "", "", ""},
         "target cluster '" + options.target_cluster + "' is not among the connected clusters");
  return nullptr;
}

// The endpoints of every contributor, and the service accounts of the pods
// and waypoints behind them. Serving-but-terminating endpoints are used only
// when no cluster has a ready one.
void AddEndpoints(const std::string& key, const std::vector<Contributor>& contributors,
                  const ClusterState& target, ServiceEntry& entry, Diagnostics& diagnostics) {
  std::vector<ClusterAddresses> addresses;
  addresses.reserve(contributors.size());
  std::size_t total_ready = 0;
  for (const Contributor& c : contributors) {
    addresses.push_back(CollectAddresses(c, key, entry.ports, diagnostics));
    total_ready += addresses.back().ready.size();
  }
  const bool use_terminating = total_ready == 0;

  std::set<std::string> service_accounts;
  std::set<std::string> waypoint_accounts;
  for (std::size_t i = 0; i < contributors.size(); ++i) {
    const Contributor& c = contributors[i];
    if (std::string waypoint = WaypointAccount(c); !waypoint.empty()) {
      waypoint_accounts.insert(std::move(waypoint));
    }
    const auto& chosen = use_terminating ? addresses[i].terminating : addresses[i].ready;
    for (const ReadyAddress& ready : chosen) {
      if (ready.endpoint->pod_name.empty()) continue;
      std::string account =
          c.cluster->ServiceAccountOf(c.service->namespace_name, ready.endpoint->pod_name);
      if (!account.empty()) service_accounts.insert(std::move(account));
    }
    const bool same_network = c.cluster == &target || c.cluster->network() == target.network();
    if (same_network) {
      AddDirectEndpoints(c, chosen, entry.endpoints, diagnostics);
    } else {
      AddGatewayEndpoints(c, chosen, entry.endpoints, diagnostics);
    }
  }
  std::sort(entry.endpoints.begin(), entry.endpoints.end(), EndpointLess);

  entry.service_accounts.assign(service_accounts.begin(), service_accounts.end());
  entry.waypoint_accounts.assign(waypoint_accounts.begin(), waypoint_accounts.end());
}

std::optional<ServiceEntry> PlanGroup(std::string_view service_namespace,
                                      std::string_view service_name,
                                      const std::vector<const ClusterState*>& clusters,
                                      const ClusterState& target, const PlanOptions& options,
                                      const SegmentGroup& group, Diagnostics& diagnostics) {
  const std::string key = ServiceKey(service_namespace, service_name);
  const std::vector<Contributor>& contributors = group.contributors;
  if (contributors.empty()) return std::nullopt;

  // Contributors come by cluster name; the local cluster's Service goes first.
  std::vector<Contributor> by_precedence = contributors;
  std::stable_partition(by_precedence.begin(), by_precedence.end(),
                        [&](const Contributor& c) { return c.cluster == &target; });

  ServiceEntry entry;
  entry.ports = MergePorts(by_precedence, target, diagnostics);
  if (entry.ports.empty()) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kNoTcpPorts,
           ServiceRef(*by_precedence.front().cluster, *by_precedence.front().service),
           "global service has no TCP port in any cluster; no ServiceEntry is generated");
    return std::nullopt;
  }

  AddEndpoints(key, contributors, target, entry, diagnostics);
  for (const Contributor& c : contributors) {
    if (c.cluster != &target) continue;
    entry.use_waypoint = c.service->waypoint_label.value_or("");
    entry.use_waypoint_namespace = c.service->waypoint_namespace_label.value_or("");
  }
  entry.namespace_exists_locally = target.FindNamespace(std::string(service_namespace)) != nullptr;
  entry.segment = group.membership.name;
  entry.name = SegmentEntryName(entry.segment, service_namespace, service_name);
  entry.namespace_name = options.control_plane_namespace;
  entry.service_namespace = std::string(service_namespace);
  entry.service_name = std::string(service_name);
  entry.host = entry.service_name + "." + entry.service_namespace + "." + group.membership.domain;
  SetTrafficDistribution(entry, DecideTrafficDistribution(contributors, target, diagnostics));
  // Takeover is decided within the target's own segment only.
  if (group.local) ApplyTakeover(key, contributors, target, options, entry, diagnostics);
  const ObjectRef entry_ref{target.name(), "ServiceEntry", entry.namespace_name, entry.name};
  std::set<std::string> aliases = ExpandAliases(group, options, &diagnostics);
  aliases.erase(entry.host);
  aliases.erase(entry.cluster_local_host);
  DropAliasesUnderDomains(group, target, options, aliases, diagnostics);
  DropCollidingAliases(key, group, clusters, target, options, aliases,
                       ServiceRef(*by_precedence.front().cluster, *by_precedence.front().service),
                       diagnostics);
  entry.alias_hosts.assign(aliases.begin(), aliases.end());
  ApplyEndpointCap(entry.endpoints, options.max_endpoints, target.name(), entry_ref, diagnostics);
  return entry;
}

// Every entry of one key: the target segment's first, then the others'. An
// alias two segments give one service is kept by the first entry.
std::vector<ServiceEntry> PlanKey(std::string_view service_namespace, std::string_view service_name,
                                  const std::vector<const ClusterState*>& clusters,
                                  const ClusterState& target, const PlanOptions& options,
                                  Diagnostics& diagnostics) {
  const std::string key = ServiceKey(service_namespace, service_name);
  const std::vector<Contributor> contributors =
      FindContributors(key, service_namespace, clusters, diagnostics);
  std::vector<ServiceEntry> entries;
  if (contributors.empty()) return entries;
  std::set<std::string> hosts;
  for (const SegmentGroup& group : GroupBySegment(contributors, target, options, diagnostics)) {
    auto entry =
        PlanGroup(service_namespace, service_name, clusters, target, options, group, diagnostics);
    if (!entry) continue;
    if (!hosts.insert(entry->host).second) {
      // Two segments (or a segment and the default) with one domain.
      Report(diagnostics, Severity::kWarning, DiagnosticCode::kInvalidSegment,
             {target.name(), "Segment", options.control_plane_namespace, entry->segment},
             "segment '" + entry->segment + "' has the domain of another segment, so " +
                 entry->host +
                 " would be two services; its entry is left out (give each "
                 "segment a domain of its own)");
      continue;
    }
    std::erase_if(entry->alias_hosts,
                  [&](const std::string& alias) { return !hosts.insert(alias).second; });
    entries.push_back(std::move(*entry));
  }
  return entries;
}

}  // namespace

std::vector<ServiceEntry> PlanServiceEntries(std::string_view service_namespace,
                                             std::string_view service_name,
                                             std::span<const ClusterState* const> clusters,
                                             const PlanOptions& options, Diagnostics& diagnostics) {
  const auto sorted = SortedClusters(clusters);
  const ClusterState* target = FindTarget(sorted, options, diagnostics);
  if (!target) return {};
  return PlanKey(service_namespace, service_name, sorted, *target, options, diagnostics);
}

std::optional<ServiceEntry> PlanService(std::string_view service_namespace,
                                        std::string_view service_name,
                                        std::span<const ClusterState* const> clusters,
                                        const PlanOptions& options, Diagnostics& diagnostics) {
  auto entries =
      PlanServiceEntries(service_namespace, service_name, clusters, options, diagnostics);
  if (entries.empty()) return std::nullopt;
  // Entries exist, so the target does.
  const auto target = std::find_if(clusters.begin(), clusters.end(), [&](const ClusterState* c) {
    return c->name() == options.target_cluster;
  });
  const SegmentMembership own =
      MembershipOf(**target, **target, options.control_plane_namespace, options.host_suffix);
  if (entries.front().segment != own.name) return std::nullopt;
  return std::move(entries.front());
}

Plan PlanCluster(std::span<const ClusterState* const> clusters, const PlanOptions& options) {
  Plan plan;
  const auto sorted = SortedClusters(clusters);
  const ClusterState* target = FindTarget(sorted, options, plan.diagnostics);
  if (!target) return plan;

  std::set<std::pair<std::string, std::string>> keys;
  for (const ClusterState* cluster : sorted) {
    for (const auto& [key, service] : cluster->services()) {
      keys.emplace(service.namespace_name, service.name);
    }
  }
  for (const auto& [ns, name] : keys) {
    for (auto& entry : PlanKey(ns, name, sorted, *target, options, plan.diagnostics))
      plan.entries.push_back(std::move(entry));
  }
  // (namespace, name) order is not "autogen.<ns>.<name>" order when one
  // namespace is a prefix of another ("a" / "a-b"), so sort by name.
  std::sort(plan.entries.begin(), plan.entries.end(),
            [](const ServiceEntry& a, const ServiceEntry& b) { return a.name < b.name; });
  return plan;
}

}  // namespace globalsvc::mesh
