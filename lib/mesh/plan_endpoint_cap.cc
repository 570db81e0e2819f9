#include "lib/mesh/plan_endpoint_cap.h"

#include <algorithm>
#include <map>

#include "lib/mesh/plan_contributor.h"

namespace globalsvc::mesh {
namespace {

// The endpoints one cluster contributes, by locality (in endpoint order within
// each), and how many of them stay under the cap.
struct ClusterEndpoints {
  std::string cluster;
  std::map<std::string, std::vector<ServiceEntryEndpoint*>> by_locality;
  std::size_t size = 0;
  std::size_t quota = 0;
};

// Splits `cap` between the clusters with max-min fairness (water-filling):
// each round, every cluster that still has endpoints left gets at most an
// equal share of what is left, until the cap is used or every cluster has all
// of its endpoints. A remainder smaller than the number of clusters still
// wanting goes one each in the order of `clusters` (the local cluster first).
void SplitCap(std::vector<ClusterEndpoints>& clusters, std::size_t cap) {
  std::size_t left = cap;
  while (left > 0) {
    std::size_t wanting = 0;
    for (const ClusterEndpoints& c : clusters)
      wanting += c.quota < c.size ? 1 : 0;
    if (wanting == 0) return;
    const std::size_t share = left / wanting;
    for (ClusterEndpoints& c : clusters) {
      if (c.quota == c.size || left == 0) continue;
      const std::size_t more = std::min(c.size - c.quota, std::max<std::size_t>(share, 1));
      c.quota += more;
      left -= more;
    }
  }
}

// Takes `quota` endpoints of one cluster round-robin across its localities
// (by locality name, then endpoint order), so none of them loses all of its
// capacity while the quota allows.
void TakeRoundRobin(ClusterEndpoints& c, std::vector<ServiceEntryEndpoint>& kept) {
  std::vector<std::vector<ServiceEntryEndpoint*>*> localities;
  for (auto& [locality, members] : c.by_locality)
    localities.push_back(&members);
  std::size_t taken = 0;
  for (std::size_t round = 0; taken < c.quota; ++round) {
    for (auto* members : localities) {
      if (taken == c.quota) break;
      kept.push_back(std::move(*(*members)[round]));
      ++taken;
    }
    std::erase_if(localities, [&](const auto* members) { return members->size() <= round + 1; });
  }
}

}  // namespace

void ApplyEndpointCap(std::vector<ServiceEntryEndpoint>& endpoints, std::size_t cap,
                      const std::string& local_cluster, const ObjectRef& object,
                      Diagnostics& diagnostics) {
  if (endpoints.size() <= cap) return;
  std::map<std::string, ClusterEndpoints> by_cluster;
  for (auto& endpoint : endpoints) {
    ClusterEndpoints& c = by_cluster[endpoint.cluster];
    c.cluster = endpoint.cluster;
    c.by_locality[endpoint.locality].push_back(&endpoint);
    ++c.size;
  }
  std::vector<ClusterEndpoints> clusters;
  clusters.reserve(by_cluster.size());
  for (auto& [name, c] : by_cluster)
    clusters.push_back(std::move(c));
  std::stable_partition(clusters.begin(), clusters.end(),
                        [&](const ClusterEndpoints& c) { return c.cluster == local_cluster; });
  SplitCap(clusters, cap);

  std::vector<ServiceEntryEndpoint> kept;
  kept.reserve(cap);
  for (ClusterEndpoints& c : clusters)
    TakeRoundRobin(c, kept);

  std::sort(
      clusters.begin(), clusters.end(),
      [](const ClusterEndpoints& a, const ClusterEndpoints& b) { return a.cluster < b.cluster; });
  std::string split;
  for (const ClusterEndpoints& c : clusters) {
    split += (split.empty() ? "" : ", ") + c.cluster + " " + std::to_string(c.quota) + " of " +
             std::to_string(c.size);
  }
  Report(diagnostics, Severity::kError, DiagnosticCode::kEndpointCapExceeded, object,
         std::to_string(endpoints.size()) + " endpoints exceed Istio's limit of " +
             std::to_string(cap) + " per ServiceEntry; " +
             std::to_string(endpoints.size() - kept.size()) + " were left out (kept " + split +
             ": the limit is split evenly between clusters, the local one first, and each "
             "cluster's share round-robin across its localities)");
  std::sort(kept.begin(), kept.end(), EndpointLess);
  endpoints = std::move(kept);
}

}  // namespace globalsvc::mesh
