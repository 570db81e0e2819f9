// Fuzz target for the planner's input path: objects as the API server sends
// them are decoded into ClusterStates and planned for every cluster. The
// input is one JSON document:
//   {"maxEndpoints": N, "clusters": {"<name>": <List or array of objects>, ...}}
// Invariants, beyond not crashing:
// - the plan is deterministic and does not depend on the clusters' order;
// - entries are sorted by name and names are unique, and no host is two
//   entries'; PlanServiceEntries gives each entry PlanCluster gives, and
//   PlanService one of them;
// - ports are sorted, unique by number and by name, within 1-65535;
// - endpoints are sorted, each endpoint is unique, an address appears once
//   per cluster, endpoint ports name entry ports, at most maxEndpoints are
//   kept, a capped plan keeps a subset of the uncapped one, shared with
//   max-min fairness between clusters and round-robin between the
//   localities of each cluster;
// - the JSON form serialises, and its content hash equals the entry's;
// - the WorkloadEntry shape: WorkloadEntry names are unique and carry the
//   ServiceEntry's selector value, and reading the objects back gives the
//   planned endpoints; peer Gateways do not depend on the clusters' order and
//   have unique names.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/kube/json_parser.h"
#include "lib/mesh/cluster_builder.h"
#include "lib/mesh/istio_objects.h"
#include "lib/mesh/object_read_back.h"
#include "lib/mesh/peer_gateways.h"
#include "lib/mesh/planner.h"
#include "lib/mesh/segments.h"
#include "lib/mesh/service_entry.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace globalsvc::mesh;

bool EndpointBefore(const ServiceEntryEndpoint& a, const ServiceEntryEndpoint& b) {
  return std::tie(a.cluster, a.address, a.network, a.locality, a.weight) <
         std::tie(b.cluster, b.address, b.network, b.locality, b.weight);
}

void CheckEntry(const ServiceEntry& entry, const PlanOptions& options) {
  FUZZ_CHECK(entry.name ==
             SegmentEntryName(entry.segment, entry.service_namespace, entry.service_name));
  const std::string prefix = entry.service_name + "." + entry.service_namespace + ".";
  FUZZ_CHECK(entry.host.starts_with(prefix));
  if (entry.segment.empty()) FUZZ_CHECK(entry.host == prefix + options.host_suffix);
  // Takeover stays within the target's own segment; aliases are new names.
  for (const auto& alias : entry.alias_hosts) {
    FUZZ_CHECK(alias != entry.host && alias != entry.cluster_local_host);
    FUZZ_CHECK(!alias.ends_with("." + options.cluster_domain));
  }
  FUZZ_CHECK(std::is_sorted(entry.alias_hosts.begin(), entry.alias_hosts.end()));
  FUZZ_CHECK(!entry.ports.empty());
  std::set<std::int32_t> numbers;
  std::set<std::string> names;
  for (std::size_t i = 0; i < entry.ports.size(); ++i) {
    const auto& port = entry.ports[i];
    FUZZ_CHECK(port.number >= 1 && port.number <= 65535);
    FUZZ_CHECK(port.target_port >= 0 && port.target_port <= 65535);
    FUZZ_CHECK(numbers.insert(port.number).second);
    FUZZ_CHECK(names.insert(port.name).second);
    if (i > 0) FUZZ_CHECK(entry.ports[i - 1].number < port.number);
  }
  FUZZ_CHECK(entry.endpoints.size() <= options.max_endpoints);
  std::set<std::pair<std::string, std::string>> addresses;
  for (std::size_t i = 0; i < entry.endpoints.size(); ++i) {
    const auto& endpoint = entry.endpoints[i];
    if (i > 0) {
      FUZZ_CHECK(EndpointBefore(entry.endpoints[i - 1], endpoint));  // sorted and unique
    }
    if (endpoint.address.empty()) {
      FUZZ_CHECK(endpoint.weight > 0);  // a gateway fronting nothing is left out
    } else {
      FUZZ_CHECK(addresses.emplace(endpoint.cluster, endpoint.address).second);
    }
    for (std::size_t p = 0; p < endpoint.ports.size(); ++p) {
      FUZZ_CHECK(names.count(endpoint.ports[p].first) == 1);
      FUZZ_CHECK(endpoint.ports[p].second >= 1 && endpoint.ports[p].second <= 65535);
      if (p > 0) FUZZ_CHECK(endpoint.ports[p - 1].first < endpoint.ports[p].first);
    }
  }
  const nlohmann::json object = ToJson(entry);
  const std::string text = object.dump();
  FUZZ_CHECK(ContentHash(entry) == ContentHash(nlohmann::json::parse(text)));
}

}  // namespace

void CheckShape(const ServiceEntry& entry) {
  const ServiceObjects objects = RenderServiceObjects(entry, ShapeOptions{});
  const auto& selector = objects.service_entry["spec"]["workloadSelector"]["labels"];
  FUZZ_CHECK(selector.contains(kGlobalServiceLabel));
  std::set<std::string> names;
  for (const auto& workload : objects.workload_entries) {
    FUZZ_CHECK(names.insert(workload["metadata"]["name"].get<std::string>()).second);
    FUZZ_CHECK(workload["metadata"]["labels"][kGlobalServiceLabel] ==
               selector[kGlobalServiceLabel]);
  }
  // Takeover: only other clusters' endpoints join the Kubernetes Service, with
  // every selector label that does not clash with ours, and the hash keeps
  // those labels.
  for (const auto& workload : objects.workload_entries) {
    const auto& labels = workload["metadata"]["labels"];
    const bool local = labels.value(kClusterLabel, "") == entry.takeover_local_cluster;
    const bool joins = !entry.takeover_selector.empty() && !local;
    FUZZ_CHECK(workload["metadata"].contains("annotations") == joins);
    if (joins) {
      for (const auto& [key, value] : entry.takeover_selector)
        FUZZ_CHECK(labels.contains(key));
    }
    FUZZ_CHECK(OwnedContentHash(workload) ==
               OwnedContentHash(nlohmann::json::parse(workload.dump())));
  }
  FUZZ_CHECK(entry.cluster_local_host.empty() || entry.takeover);
  FUZZ_CHECK(entry.takeover_selector.empty() || entry.takeover);
  FUZZ_CHECK(entry.cluster_local_host.empty() || entry.takeover_selector.empty());
  const auto read = EntriesFromObjects({objects.service_entry}, objects.workload_entries);
  // Only the default segment's entries are carried over.
  FUZZ_CHECK(read.size() == (entry.segment.empty() ? 1u : 0u));
  if (!read.empty()) FUZZ_CHECK(read[0].endpoints == entry.endpoints);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input =
      globalsvc::kube::ParseJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!input || !input->is_object()) return 0;
  const auto clusters_it = input->find("clusters");
  if (clusters_it == input->end() || !clusters_it->is_object() || clusters_it->size() > 4) {
    return 0;
  }
  std::size_t max_endpoints = kMaxServiceEntryEndpoints;
  if (auto cap = input->find("maxEndpoints"); cap != input->end() && cap->is_number_unsigned()) {
    max_endpoints = std::clamp<std::size_t>(cap->get<std::size_t>(), 1, kMaxServiceEntryEndpoints);
  }

  Diagnostics build_diagnostics;
  std::vector<ClusterState> states;
  for (const auto& [name, objects] : clusters_it->items()) {
    ClusterBuilder builder({name, "istio-system", ""}, &build_diagnostics);
    if (objects.is_array()) {
      for (const auto& object : objects)
        builder.Add(object);
    } else {
      builder.Add(objects);
    }
    states.push_back(std::move(builder).Build());
  }
  std::vector<const ClusterState*> forward;
  for (const auto& state : states)
    forward.push_back(&state);
  std::vector<const ClusterState*> backward(forward.rbegin(), forward.rend());

  for (const ClusterState* target : forward) {
    PlanOptions options;
    options.target_cluster = target->name();
    options.max_endpoints = max_endpoints;
    const Plan plan = PlanCluster(forward, options);
    const Plan again = PlanCluster(backward, options);
    FUZZ_CHECK(plan.entries == again.entries);
    Diagnostics gateway_diagnostics;
    const auto gateways =
        PlanPeerGateways(forward, target->name(), ShapeOptions{}, gateway_diagnostics);
    FUZZ_CHECK(gateways ==
               PlanPeerGateways(backward, target->name(), ShapeOptions{}, gateway_diagnostics));
    std::set<std::string> gateway_names;
    for (const auto& gateway : gateways)
      FUZZ_CHECK(gateway_names.insert(gateway.name).second);

    PlanOptions uncapped_options = options;
    uncapped_options.max_endpoints = kMaxServiceEntryEndpoints;
    const Plan uncapped = PlanCluster(forward, uncapped_options);
    FUZZ_CHECK(plan.entries.size() == uncapped.entries.size());

    std::set<std::string> plan_hosts;
    for (std::size_t i = 0; i < plan.entries.size(); ++i) {
      const ServiceEntry& entry = plan.entries[i];
      if (i > 0) FUZZ_CHECK(plan.entries[i - 1].name < entry.name);
      CheckEntry(entry, options);
      CheckShape(entry);

      Diagnostics diagnostics;
      const auto entries = PlanServiceEntries(entry.service_namespace, entry.service_name, backward,
                                              options, diagnostics);
      FUZZ_CHECK(std::count(entries.begin(), entries.end(), entry) == 1);
      const auto single =
          PlanService(entry.service_namespace, entry.service_name, backward, options, diagnostics);
      FUZZ_CHECK(!single || std::count(entries.begin(), entries.end(), *single) == 1);
      // No host (default, cluster-local or alias) is two entries'.
      for (const auto& host : HostsJson(entry))
        FUZZ_CHECK(plan_hosts.insert(host.get<std::string>()).second);

      const ServiceEntry& full = uncapped.entries[i];
      FUZZ_CHECK(full.name == entry.name);
      FUZZ_CHECK(entry.endpoints.size() == std::min(full.endpoints.size(), max_endpoints));
      for (const auto& endpoint : entry.endpoints) {
        FUZZ_CHECK(std::binary_search(full.endpoints.begin(), full.endpoints.end(), endpoint,
                                      EndpointBefore));
      }
      // The cap is shared with max-min fairness between clusters (no
      // cluster that lost endpoints keeps fewer than another keeps, less
      // one), and round-robin between the localities of one cluster.
      std::map<std::string, std::size_t> full_by_cluster, kept_by_cluster;
      std::map<std::pair<std::string, std::string>, std::size_t> full_by_group, kept_by_group;
      for (const auto& endpoint : full.endpoints) {
        ++full_by_cluster[endpoint.cluster];
        ++full_by_group[{endpoint.cluster, endpoint.locality}];
      }
      for (const auto& endpoint : entry.endpoints) {
        ++kept_by_cluster[endpoint.cluster];
        ++kept_by_group[{endpoint.cluster, endpoint.locality}];
      }
      for (const auto& [cluster, count] : full_by_cluster) {
        const std::size_t kept = kept_by_cluster[cluster];
        if (kept == count) continue;
        for (const auto& [other, other_kept] : kept_by_cluster)
          FUZZ_CHECK(other_kept <= kept + 1);
      }
      for (const auto& [group, count] : full_by_group) {
        const std::size_t kept = kept_by_group[group];
        if (kept == count) continue;
        for (const auto& [other, other_kept] : kept_by_group) {
          if (other.first == group.first) FUZZ_CHECK(other_kept <= kept + 1);
        }
      }
    }
  }
  return 0;
}
