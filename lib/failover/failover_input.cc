#include "lib/failover/failover_input.h"

#include <algorithm>
#include <optional>
#include <set>

#include "lib/base/json_fields.h"

namespace globalsvc::failover {

using mesh::kClusterLabel;
using mesh::kManagedByLabel;
using mesh::kManagedByValue;
using mesh::kNetworkLabel;
using mesh::kRegionLabel;
using mesh::kZoneLabel;
using mesh::ParseLocality;

namespace {

using nlohmann::json;

const json* Field(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string Kind(const json& object) {
  return StringFieldAt(object, {"kind"});
}

bool IsIstioKind(const json& object, const char* kind) {
  return Kind(object) == kind &&
         StringFieldAt(object, {"apiVersion"}).rfind("networking.istio.io/", 0) == 0;
}

// A ServiceEntry as the failover simulator needs it.
struct EntryView {
  std::string cluster;  // owner: folder, else inferred from local endpoints
  std::string namespace_name;
  std::string name;
  std::string traffic_distribution;
  std::vector<FailoverEndpoint> endpoints;

  [[nodiscard]] std::string Describe() const {
    return (cluster.empty() ? std::string("?") : cluster) + ": " + namespace_name + "/" + name;
  }
};

Result<FailoverEndpoint> DecodeEndpoint(const json& item) {
  FailoverEndpoint endpoint;
  endpoint.address = StringFieldAt(item, {"address"});
  endpoint.network = StringFieldAt(item, {"network"});
  endpoint.locality = ParseLocality(StringFieldAt(item, {"locality"}));
  if (const json* weight = Field(item, "weight"); weight != nullptr) {
    if (!weight->is_number_integer() || weight->get<std::int64_t>() < 0) {
      return MakeError(ErrorCode::kInvalidInput, "endpoint weight is not a whole number >= 0");
    }
    // 0 means omitted: Istio's default weight of 1.
    const auto value = weight->get<std::int64_t>();
    if (value > 0) {
      endpoint.weight = static_cast<std::uint32_t>(std::min<std::int64_t>(value, UINT32_MAX));
    }
  }
  if (const json* labels = Field(item, "labels"); labels != nullptr && labels->is_object()) {
    for (const auto& [key, value] : labels->items()) {
      if (value.is_string()) endpoint.labels[key] = value.get<std::string>();
    }
  }
  if (const auto it = endpoint.labels.find(kClusterLabel); it != endpoint.labels.end()) {
    endpoint.cluster = it->second;
  }
  return endpoint;
}

Result<EntryView> DecodeEntry(const SourcedObject& sourced) {
  const json& object = sourced.object;
  EntryView view;
  view.namespace_name = StringFieldAt(object, {"metadata", "namespace"});
  view.name = StringFieldAt(object, {"metadata", "name"});
  view.traffic_distribution = StringFieldAt(
      object, {"metadata", "annotations", "networking.istio.io/traffic-distribution"});
  const json* spec = Field(object, "spec");
  if (const json* endpoints = spec ? Field(*spec, "endpoints") : nullptr;
      endpoints != nullptr && endpoints->is_array()) {
    for (const json& item : *endpoints) {
      auto endpoint = DecodeEndpoint(item);
      if (!endpoint.ok()) {
        return MakeError(ErrorCode::kInvalidInput, sourced.source + ": ServiceEntry " +
                                                       view.namespace_name + "/" + view.name +
                                                       ": " + endpoint.error().message);
      }
      view.endpoints.push_back(std::move(endpoint).value());
    }
  }
  view.cluster = sourced.cluster;
  if (view.cluster.empty()) {
    // Addressed endpoints are the cluster's own pods, but also those of remote
    // clusters on the same network; only a single cluster is an answer.
    std::set<std::string> local;
    for (const auto& endpoint : view.endpoints) {
      if (!endpoint.is_gateway() && !endpoint.cluster.empty()) local.insert(endpoint.cluster);
    }
    if (local.size() == 1) view.cluster = *local.begin();
  }
  return view;
}

bool HasHost(const json& object, const std::string& host) {
  const json* spec = Field(object, "spec");
  const json* hosts = spec ? Field(*spec, "hosts") : nullptr;
  if (hosts == nullptr || !hosts->is_array()) return false;
  return std::any_of(hosts->begin(), hosts->end(),
                     [&](const json& h) { return h.is_string() && h.get<std::string>() == host; });
}

bool InCluster(const SourcedObject& object, const std::string& cluster) {
  return object.cluster.empty() || object.cluster == cluster;
}

std::string RegionOfZone(std::span<const SourcedObject> objects,
                         const std::vector<EntryView>& entries, const std::string& cluster,
                         const std::string& zone) {
  for (const auto& entry : entries) {
    for (const auto& endpoint : entry.endpoints) {
      if (endpoint.locality.zone == zone && !endpoint.locality.region.empty()) {
        return endpoint.locality.region;
      }
    }
  }
  for (const auto& sourced : objects) {
    if (Kind(sourced.object) != "Node" || !InCluster(sourced, cluster)) continue;
    if (StringFieldAt(sourced.object, {"metadata", "labels", kZoneLabel}) == zone) {
      const std::string region =
          StringFieldAt(sourced.object, {"metadata", "labels", kRegionLabel});
      if (!region.empty()) return region;
    }
  }
  return {};
}

std::string NetworkOfCluster(std::span<const SourcedObject> objects,
                             const std::vector<EntryView>& entries, const std::string& cluster,
                             const std::string& control_plane_namespace) {
  // Best evidence first: the cluster's own endpoints, then what other clusters
  // say about it (its gateway aggregate), then its control-plane labels.
  for (const bool local : {true, false}) {
    for (const auto& entry : entries) {
      if (local && entry.cluster != cluster) continue;
      for (const auto& endpoint : entry.endpoints) {
        if (endpoint.cluster == cluster && !endpoint.network.empty()) return endpoint.network;
      }
    }
  }
  for (const auto& sourced : objects) {
    if (sourced.cluster != cluster) continue;
    const std::string kind = Kind(sourced.object);
    const bool control_plane_namespace_object =
        kind == "Namespace" &&
        StringFieldAt(sourced.object, {"metadata", "name"}) == control_plane_namespace;
    const bool gateway =
        kind == "Deployment" &&
        StringFieldAt(sourced.object, {"metadata", "namespace"}) == control_plane_namespace;
    if (!control_plane_namespace_object && !gateway) continue;
    const std::string network =
        StringFieldAt(sourced.object, {"metadata", "labels", kNetworkLabel});
    if (!network.empty()) return network;
  }
  return {};
}

std::optional<DestinationRule> PickDestinationRule(std::span<const SourcedObject> objects,
                                                   const std::string& host,
                                                   const std::string& cluster,
                                                   std::vector<std::string>& notes,
                                                   std::optional<Error>& error) {
  std::vector<DestinationRule> rules;
  for (const bool own_cluster : {true, false}) {
    for (const auto& sourced : objects) {
      if (!IsDestinationRule(sourced.object)) continue;
      if (own_cluster ? sourced.cluster != cluster : !sourced.cluster.empty()) continue;
      if (StringFieldAt(sourced.object, {"spec", "host"}) != host) continue;
      auto rule = DecodeDestinationRule(sourced.object, sourced.cluster);
      if (!rule.ok()) {
        error = MakeError(ErrorCode::kInvalidInput, sourced.source + ": " + rule.error().message);
        return std::nullopt;
      }
      rules.push_back(std::move(rule).value());
    }
    if (!rules.empty()) break;
  }
  if (rules.empty()) return std::nullopt;
  // Istio uses the oldest rule for a host when several exist.
  std::sort(rules.begin(), rules.end(), [](const DestinationRule& a, const DestinationRule& b) {
    return std::tie(a.creation_timestamp, a.namespace_name, a.name) <
           std::tie(b.creation_timestamp, b.namespace_name, b.name);
  });
  if (rules.size() > 1) {
    notes.push_back(std::to_string(rules.size()) + " DestinationRules for " + host +
                    "; using the oldest, " + rules.front().namespace_name + "/" +
                    rules.front().name);
  }
  return rules.front();
}

}  // namespace

void AppendObjects(const json& document, const std::string& cluster, const std::string& source,
                   std::vector<SourcedObject>& objects) {
  if (!document.is_object()) return;
  if (Kind(document).ends_with("List")) {
    if (const json* items = Field(document, "items"); items != nullptr && items->is_array()) {
      for (const json& item : *items)
        AppendObjects(item, cluster, source, objects);
    }
    return;
  }
  objects.push_back({cluster, source, document});
}

namespace {

// The ServiceEntries with the host: the control-plane namespace's, and ours
// wherever they are (the WorkloadEntry shape puts them in the Service's).
Result<std::vector<EntryView>> EntriesWithHost(std::span<const SourcedObject> objects,
                                               const ExplainQuery& query) {
  std::vector<EntryView> entries;
  for (const auto& sourced : objects) {
    if (!IsIstioKind(sourced.object, "ServiceEntry") || !HasHost(sourced.object, query.host)) {
      continue;
    }
    const std::string ns = StringFieldAt(sourced.object, {"metadata", "namespace"});
    const bool ours =
        StringFieldAt(sourced.object, {"metadata", "labels", kManagedByLabel}) == kManagedByValue;
    if (!ns.empty() && ns != query.control_plane_namespace && !ours) continue;
    auto entry = DecodeEntry(sourced);
    if (!entry.ok()) return entry.error();
    entries.push_back(std::move(entry).value());
  }
  if (entries.empty()) {
    return MakeError(ErrorCode::kNotFound, "no ServiceEntry in namespace " +
                                               query.control_plane_namespace + " has host " +
                                               query.host);
  }
  return entries;
}

// The one entry of the client's cluster.
Result<const EntryView*> OwnEntry(const std::vector<EntryView>& entries, const ExplainQuery& query,
                                  std::vector<std::string>& notes) {
  const std::string& cluster = query.from.cluster;
  std::vector<const EntryView*> own;
  for (const auto& entry : entries) {
    if (entry.cluster == cluster) own.push_back(&entry);
  }
  if (own.empty() && entries.size() == 1 && entries.front().cluster.empty()) {
    own.push_back(&entries.front());
    notes.push_back("assuming the only ServiceEntry for " + query.host + " is " + cluster + "'s");
  }
  if (own.size() == 1) return own.front();
  std::string found;
  for (const auto& entry : entries)
    found += "\n  " + entry.Describe();
  return MakeError(
      own.empty() ? ErrorCode::kNotFound : ErrorCode::kInvalidInput,
      std::string(own.empty() ? "no" : "more than one") + " ServiceEntry for " + query.host +
          " belongs to cluster " + cluster +
          " (lay files out one folder per cluster to say which is whose); found:" + found);
}

// Behind each gateway endpoint, the remote cluster's own endpoints, from its
// ServiceEntry when the files hold it.
void AddEndpointsBehindGateways(std::vector<FailoverEndpoint>& endpoints,
                                const std::vector<EntryView>& entries,
                                std::vector<std::string>& notes) {
  for (auto& endpoint : endpoints) {
    if (!endpoint.is_gateway()) continue;
    const auto remote = std::find_if(entries.begin(), entries.end(), [&](const EntryView& e) {
      return !endpoint.cluster.empty() && e.cluster == endpoint.cluster;
    });
    if (remote == entries.end()) {
      notes.push_back(
          EndpointDisplayName(endpoint) + ": " +
          (endpoint.cluster.empty() ? std::string("the remote cluster") : endpoint.cluster) +
          "'s ServiceEntry is not among the files, so the endpoints behind the "
          "gateway are not shown");
      continue;
    }
    for (const auto& inner : remote->endpoints) {
      if (!inner.is_gateway() && inner.cluster == endpoint.cluster) {
        endpoint.behind.push_back(inner);
      }
    }
  }
}

// The client's cluster, locality and network, from the query or the files.
Status LocateClient(FailoverClient& client, std::span<const SourcedObject> objects,
                    const std::vector<EntryView>& entries, const ExplainQuery& query) {
  const std::string& cluster = query.from.cluster;
  client.cluster = cluster;
  client.locality = query.from.locality;
  if (client.locality.region.empty()) {
    client.locality.region = RegionOfZone(objects, entries, cluster, client.locality.zone);
    if (client.locality.region.empty()) {
      return MakeError(ErrorCode::kInvalidInput, "cannot tell the region of zone " +
                                                     client.locality.zone +
                                                     " from the files; use --from " + cluster +
                                                     "/REGION/" + client.locality.zone);
    }
  }
  client.network = query.network.empty()
                       ? NetworkOfCluster(objects, entries, cluster, query.control_plane_namespace)
                       : query.network;
  if (client.network.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "cannot tell the network of cluster " + cluster +
                                                   " from the files; pass --network");
  }
  return Ok{};
}

}  // namespace

Result<ExplainInput> BuildExplainInput(std::span<const SourcedObject> objects,
                                       const ExplainQuery& query) {
  ExplainInput input;
  auto entries = EntriesWithHost(objects, query);
  if (!entries.ok()) return entries.error();
  auto own = OwnEntry(*entries, query, input.notes);
  if (!own.ok()) return own.error();
  const EntryView& entry = **own;
  input.service_entry = query.from.cluster + ": " + entry.namespace_name + "/" + entry.name;

  SimulationInput& simulation = input.simulation;
  simulation.data_plane = query.data_plane;
  simulation.failures = query.failures;
  simulation.traffic_distribution = entry.traffic_distribution;
  simulation.endpoints = entry.endpoints;
  AddEndpointsBehindGateways(simulation.endpoints, *entries, input.notes);
  if (auto located = LocateClient(simulation.client, objects, *entries, query); !located.ok()) {
    return located.error();
  }

  std::optional<Error> error;
  simulation.destination_rule =
      PickDestinationRule(objects, query.host, query.from.cluster, input.notes, error);
  if (error) return *error;
  if (simulation.destination_rule) {
    const auto& rule = *simulation.destination_rule;
    input.destination_rule = (rule.cluster.empty() ? std::string() : rule.cluster + ": ") +
                             rule.namespace_name + "/" + rule.name;
  }
  return input;
}

}  // namespace globalsvc::failover
