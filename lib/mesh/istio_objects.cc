#include "lib/mesh/istio_objects.h"

#include <arpa/inet.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "lib/base/hash.h"
#include "lib/base/json_fields.h"
#include "lib/mesh/model.h"

namespace globalsvc::mesh {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxLabelValue = 63;

std::string ShortHash(std::string_view text) {
  return HexHash(Fnv1a64(text)).substr(0, 10);
}

bool IsDnsLabel(std::string_view text, std::size_t max) {
  if (text.empty() || text.size() > max) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(text.front()) || !alnum(text.back())) return false;
  return std::all_of(text.begin(), text.end(), [&](char c) { return alnum(c) || c == '-'; });
}

json OwnedLabels(const ServiceEntry& entry) {
  json labels = {{kManagedByLabel, kManagedByValue},
                 {kParentServiceLabel, entry.service_name},
                 {kParentServiceNamespaceLabel, entry.service_namespace}};
  if (!entry.segment.empty()) labels[kSegmentObjectLabel] = entry.segment;
  return labels;
}

json PortsJson(const ServiceEntry& entry) {
  json ports = json::array();
  for (const auto& port : entry.ports) {
    json p = {{"name", port.name}, {"number", port.number}, {"protocol", port.protocol}};
    if (port.target_port != 0) p["targetPort"] = port.target_port;
    ports.push_back(std::move(p));
  }
  return ports;
}

// Under takeover of a global Service the target cluster has, another
// cluster's endpoint carries the Service's selector (our own labels win a
// clash), and the annotation names those labels as ours.
bool JoinsTakenOverService(const ServiceEntry& entry, const ServiceEntryEndpoint& endpoint) {
  return !entry.takeover_selector.empty() && endpoint.cluster != entry.takeover_local_cluster;
}

json WorkloadEntryJson(const ServiceEntry& entry, const ServiceEntryEndpoint& endpoint,
                       const std::string& ns, const std::string& selector_value) {
  json labels = OwnedLabels(entry);
  labels[kGlobalServiceLabel] = selector_value;
  if (!endpoint.cluster.empty()) labels[kClusterLabel] = endpoint.cluster;
  if (entry.takeover) labels[kServiceTakeoverLabel] = "true";
  json annotations = json::object();
  const bool joins = JoinsTakenOverService(entry, endpoint);
  if (joins) {
    std::string keys;
    for (const auto& [key, value] : entry.takeover_selector) {
      if (labels.contains(key)) continue;
      labels[key] = value;
      keys += (keys.empty() ? "" : ",") + key;
    }
    annotations[kTakeoverLabelsAnnotation] = keys;
  }
  json spec = json::object();
  if (!endpoint.address.empty()) spec["address"] = endpoint.address;
  if (!endpoint.network.empty()) spec["network"] = endpoint.network;
  if (!endpoint.locality.empty()) spec["locality"] = endpoint.locality;
  // Weight 0 reads as unset (capacity 1) in istiod, and the planner never
  // writes a gateway endpoint without endpoints behind it.
  if (endpoint.weight != 0) spec["weight"] = endpoint.weight;
  if (!endpoint.service_account.empty()) spec["serviceAccount"] = endpoint.service_account;
  json ports = json::object();
  for (const auto& [name, number] : endpoint.ports)
    ports[name] = number;
  if (joins) {
    // The Service's named targetPorts: the endpoint's own number for that
    // port when it has one, else the port itself (a gateway endpoint is
    // reached through the gateway by service port).
    for (const auto& [target_name, service_port] : entry.takeover_named_ports) {
      if (ports.contains(target_name)) continue;
      std::int32_t number = service_port;
      for (const auto& port : entry.ports) {
        if (port.number != service_port) continue;
        for (const auto& [name, value] : endpoint.ports) {
          if (name == port.name) number = value;
        }
      }
      ports[target_name] = number;
    }
  }
  if (!ports.empty()) spec["ports"] = std::move(ports);
  json metadata = {{"name", WorkloadEntryName(entry, endpoint)},
                   {"namespace", ns},
                   {"labels", std::move(labels)}};
  if (!annotations.empty()) metadata["annotations"] = std::move(annotations);
  return {{"apiVersion", "networking.istio.io/v1"},
          {"kind", "WorkloadEntry"},
          {"metadata", std::move(metadata)},
          {"spec", std::move(spec)}};
}

}  // namespace

std::string ObjectsNamespace(const ServiceEntry& entry, const ShapeOptions& options) {
  return entry.namespace_exists_locally ? entry.service_namespace : options.control_plane_namespace;
}

std::string GlobalServiceLabelValue(const ServiceEntry& entry, const ShapeOptions& options) {
  const bool own_namespace = ObjectsNamespace(entry, options) == entry.service_namespace;
  std::string value =
      own_namespace ? entry.service_name : entry.service_namespace + "." + entry.service_name;
  // Each segment's ServiceEntry selects only its own WorkloadEntries.
  if (!entry.segment.empty()) value = entry.segment + "." + value;
  if (value.size() <= kMaxLabelValue) return value;
  // Both parts are DNS labels, so the cut ends on a letter, digit, '-' or
  // '.'; trim to end on an alphanumeric as label values must.
  std::string cut = value.substr(0, kMaxLabelValue - 11);
  while (!cut.empty() && (cut.back() == '-' || cut.back() == '.'))
    cut.pop_back();
  return cut + "-" + ShortHash(value);
}

std::string WorkloadEntryName(const ServiceEntry& entry, const ServiceEntryEndpoint& endpoint) {
  return entry.name + "." +
         ShortHash(endpoint.cluster + "|" + endpoint.address + "|" + endpoint.network + "|" +
                   endpoint.locality);
}

ServiceObjects RenderServiceObjects(const ServiceEntry& entry, const ShapeOptions& options) {
  const std::string ns = ObjectsNamespace(entry, options);
  const std::string selector_value = GlobalServiceLabelValue(entry, options);

  json spec = {{"hosts", HostsJson(entry)},
               {"location", "MESH_INTERNAL"},
               {"resolution", "STATIC"},
               {"ports", PortsJson(entry)},
               {"workloadSelector", {{"labels", {{kGlobalServiceLabel, selector_value}}}}}};
  std::set<std::string> identities;
  for (const auto& account : entry.service_accounts) {
    identities.insert("spiffe://" + options.trust_domain + "/ns/" + entry.service_namespace +
                      "/sa/" + account);
  }
  for (const auto& account : entry.waypoint_accounts) {
    const auto slash = account.find('/');
    if (slash == std::string::npos) continue;
    identities.insert("spiffe://" + options.trust_domain + "/ns/" + account.substr(0, slash) +
                      "/sa/" + account.substr(slash + 1));
  }
  if (!identities.empty()) {
    spec["subjectAltNames"] = json(std::vector<std::string>(identities.begin(), identities.end()));
  }
  json labels = OwnedLabels(entry);
  labels[kScopeLabel] = "global";
  if (entry.takeover) labels[kServiceTakeoverLabel] = "true";
  if (!entry.use_waypoint.empty()) labels[kUseWaypointLabel] = entry.use_waypoint;
  if (!entry.use_waypoint_namespace.empty()) {
    labels[kUseWaypointNamespaceLabel] = entry.use_waypoint_namespace;
  }
  json annotations = {{kTrafficDistributionAnnotation, entry.traffic_distribution}};
  if (!entry.requested_traffic_distribution.empty()) {
    annotations[kRequestedTrafficDistributionAnnotation] = entry.requested_traffic_distribution;
  }

  ServiceObjects out;
  out.service_entry = {{"apiVersion", "networking.istio.io/v1"},
                       {"kind", "ServiceEntry"},
                       {"metadata",
                        {{"name", entry.name},
                         {"namespace", ns},
                         {"labels", std::move(labels)},
                         {"annotations", std::move(annotations)}}},
                       {"spec", std::move(spec)}};
  std::map<std::string, json> by_name;  // two endpoints never share a name
  for (const auto& endpoint : entry.endpoints) {
    json object = WorkloadEntryJson(entry, endpoint, ns, selector_value);
    std::string name = object["metadata"]["name"].get<std::string>();
    by_name.emplace(std::move(name), std::move(object));
  }
  out.workload_entries.reserve(by_name.size());
  for (auto& [name, object] : by_name)
    out.workload_entries.push_back(std::move(object));
  return out;
}

std::vector<PeerGateway> PlanPeerGateways(std::span<const ClusterState* const> clusters,
                                          const std::string& target_cluster,
                                          const ShapeOptions& options, Diagnostics& diagnostics) {
  std::vector<const ClusterState*> sorted(clusters.begin(), clusters.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const ClusterState* a, const ClusterState* b) { return a->name() < b->name(); });
  std::string target_network;
  bool target_known = false;
  for (const ClusterState* cluster : sorted) {
    if (cluster->name() != target_cluster) continue;
    target_network = cluster->network();
    target_known = true;
  }
  // Nothing is planned for a cluster we do not hold (the planner says so).
  if (!target_known) return {};

  struct Candidate {
    std::optional<PeerGateway> chosen;
    std::vector<std::pair<std::string, std::string>> without_address;  // cluster, gateway
  };
  std::map<std::string, Candidate> by_network;
  for (const ClusterState* cluster : sorted) {
    // A cluster on our network (a flat network, or one pinned onto it) is
    // reached directly: its gateways carry nothing for us.
    if (cluster->name() == target_cluster || cluster->network() == target_network) continue;
    for (const auto& [name, gateway] : cluster->gateways()) {
      const std::string& network = gateway.network.empty() ? cluster->network() : gateway.network;
      if (network.empty() || network == target_network) continue;
      Candidate& candidate = by_network[network];
      if (candidate.chosen) continue;
      const std::string address = cluster->AddressOfGateway(name);
      if (address.empty()) {
        candidate.without_address.emplace_back(cluster->name(), name);
        continue;
      }
      const std::string prefix = kPeerGatewayPrefix;
      const std::string gateway_name =
          IsDnsLabel(network, 63 - prefix.size()) ? prefix + network : prefix + ShortHash(network);
      candidate.chosen = PeerGateway{gateway_name, options.control_plane_namespace, network,
                                     address, cluster->name()};
    }
  }
  std::vector<PeerGateway> out;
  for (auto& [network, candidate] : by_network) {
    if (candidate.chosen) {
      out.push_back(std::move(*candidate.chosen));
      continue;
    }
    std::string names;
    for (const auto& [cluster, name] : candidate.without_address)
      names += (names.empty() ? "" : ", ") + cluster + "/" + name;
    const auto& [first_cluster, first_gateway] = candidate.without_address.front();
    diagnostics.push_back(
        {Severity::kWarning,
         DiagnosticCode::kNoGatewayAddress,
         {first_cluster, "Deployment", options.control_plane_namespace, first_gateway},
         "no east-west gateway of network " + network + " has an address (" + names +
             "): the gateway's Service, of the same name and labelled " + kNetworkLabel +
             ", needs a load-balancer address or an external IP; endpoints on that network are "
             "unroutable"});
  }
  std::sort(out.begin(), out.end(),
            [](const PeerGateway& a, const PeerGateway& b) { return a.name < b.name; });
  return out;
}

json ToJson(const PeerGateway& gateway) {
  in6_addr scratch{};
  const bool is_ip = inet_pton(AF_INET, gateway.address.c_str(), &scratch) == 1 ||
                     inet_pton(AF_INET6, gateway.address.c_str(), &scratch) == 1;
  return {
      {"apiVersion", "gateway.networking.k8s.io/v1"},
      {"kind", "Gateway"},
      {"metadata",
       {{"name", gateway.name},
        {"namespace", gateway.namespace_name},
        {"labels",
         {{kManagedByLabel, kManagedByValue},
          {kNetworkLabel, gateway.network},
          {kClusterLabel, gateway.cluster}}}}},
      {"spec",
       {{"gatewayClassName", kRemotePeerGatewayClass},
        {"addresses",
         json::array({{{"type", is_ip ? "IPAddress" : "Hostname"}, {"value", gateway.address}}})},
        {"listeners", json::array({{{"name", "cross-network"},
                                    {"port", kHboneGatewayPort},
                                    {"protocol", "HBONE"},
                                    {"tls", {{"mode", "Passthrough"}}},
                                    // The CRD's default, written so that the
                                    // stored object hashes as the desired one.
                                    {"allowedRoutes", {{"namespaces", {{"from", "Same"}}}}}}})}}}};
}

namespace {

const json* Member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string Text(const json& object, const char* key) {
  const json* value = Member(object, key);
  return value && value->is_string() ? value->get<std::string>() : std::string();
}

void CopyMember(const json& from, json& to, const char* key) {
  if (const json* value = Member(from, key)) to[key] = *value;
}

const std::vector<const char*>& OwnedSpecFields(const std::string& kind) {
  static const std::vector<const char*> kServiceEntry = {
      "hosts",           "location", "resolution", "ports", "workloadSelector",
      "subjectAltNames", "endpoints"};
  static const std::vector<const char*> kWorkloadEntry = {
      "address", "network", "locality", "weight", "serviceAccount", "ports", "labels"};
  static const std::vector<const char*> kGateway = {"gatewayClassName", "addresses", "listeners"};
  static const std::vector<const char*> kNone;
  if (kind == "ServiceEntry") return kServiceEntry;
  if (kind == "WorkloadEntry") return kWorkloadEntry;
  if (kind == "Gateway") return kGateway;
  return kNone;
}

}  // namespace

std::string OwnedContentHash(const json& object) {
  json owned = json::object();
  CopyMember(object, owned, "apiVersion");
  CopyMember(object, owned, "kind");
  const std::string kind = Text(object, "kind");
  if (const json* metadata = Member(object, "metadata")) {
    json m = json::object();
    CopyMember(*metadata, m, "name");
    CopyMember(*metadata, m, "namespace");
    json labels = json::object();
    const json* stored_labels = Member(*metadata, "labels");
    if (stored_labels) {
      for (const char* key :
           {kManagedByLabel, kParentServiceLabel, kParentServiceNamespaceLabel, kScopeLabel,
            kGlobalServiceLabel, kClusterLabel, kNetworkLabel, kUseWaypointLabel,
            kUseWaypointNamespaceLabel, kServiceTakeoverLabel, kSegmentObjectLabel}) {
        CopyMember(*stored_labels, labels, key);
      }
    }
    json annotations = json::object();
    if (const json* stored = Member(*metadata, "annotations")) {
      CopyMember(*stored, annotations, kTrafficDistributionAnnotation);
      CopyMember(*stored, annotations, kRequestedTrafficDistributionAnnotation);
      CopyMember(*stored, annotations, kTakeoverLabelsAnnotation);
      // The labels a taken-over Service selects are ours too.
      const std::string keys = Text(*stored, kTakeoverLabelsAnnotation);
      for (std::size_t start = 0; stored_labels && start < keys.size();) {
        std::size_t comma = keys.find(',', start);
        if (comma == std::string::npos) comma = keys.size();
        const std::string key = keys.substr(start, comma - start);
        CopyMember(*stored_labels, labels, key.c_str());
        start = comma + 1;
      }
    }
    m["labels"] = std::move(labels);
    m["annotations"] = std::move(annotations);
    owned["metadata"] = std::move(m);
  }
  if (const json* spec = Member(object, "spec")) {
    json s = json::object();
    for (const char* key : OwnedSpecFields(kind))
      CopyMember(*spec, s, key);
    owned["spec"] = std::move(s);
  }
  return HexHash(Fnv1a64(owned.dump()));
}

std::optional<PeerGateway> PeerGatewayFromJson(const json& object) {
  const json* metadata = Member(object, "metadata");
  const json* labels = metadata ? Member(*metadata, "labels") : nullptr;
  const json* spec = Member(object, "spec");
  if (Text(object, "kind") != "Gateway" || !labels || !spec ||
      Text(*labels, kManagedByLabel) != kManagedByValue ||
      Text(*spec, "gatewayClassName") != kRemotePeerGatewayClass) {
    return std::nullopt;
  }
  PeerGateway gateway;
  gateway.name = Text(*metadata, "name");
  gateway.namespace_name = Text(*metadata, "namespace");
  gateway.network = Text(*labels, kNetworkLabel);
  gateway.cluster = Text(*labels, kClusterLabel);
  if (const json* addresses = Member(*spec, "addresses");
      addresses && addresses->is_array() && !addresses->empty()) {
    gateway.address = Text((*addresses)[0], "value");
  }
  if (gateway.name.empty() || gateway.network.empty() || gateway.address.empty()) {
    return std::nullopt;
  }
  return gateway;
}

bool SelectsWorkloadEntries(const json& service_entry) {
  return FieldAt(service_entry, {"spec", "workloadSelector", "labels", kGlobalServiceLabel}) !=
         nullptr;
}

std::vector<ServiceEntry> EntriesFromObjects(const std::vector<json>& service_entries,
                                             const std::vector<json>& workload_entries) {
  std::map<std::string, ServiceEntry> by_key;
  for (const json& object : service_entries) {
    auto entry = ServiceEntryFromJson(object);
    if (!entry || entry->service_namespace.empty() || entry->service_name.empty()) continue;
    // Only the default segment's endpoints are carried over.
    if (!entry->segment.empty()) continue;
    entry->endpoints.clear();  // an inline entry left behind is not of this shape
    std::string key = ServiceKey(entry->service_namespace, entry->service_name);
    by_key.insert_or_assign(std::move(key), std::move(*entry));
  }
  for (const json& object : workload_entries) {
    const json* metadata = Member(object, "metadata");
    const json* labels = metadata ? Member(*metadata, "labels") : nullptr;
    const json* spec = Member(object, "spec");
    if (!labels || !spec) continue;
    if (!Text(*labels, kSegmentObjectLabel).empty()) continue;
    auto it = by_key.find(ServiceKey(Text(*labels, kParentServiceNamespaceLabel),
                                     Text(*labels, kParentServiceLabel)));
    if (it == by_key.end()) continue;
    ServiceEntryEndpoint endpoint;
    endpoint.address = Text(*spec, "address");
    endpoint.network = Text(*spec, "network");
    endpoint.locality = Text(*spec, "locality");
    // Signed when read from YAML or written by hand, unsigned from the API.
    if (const json* weight = Member(*spec, "weight"); weight && weight->is_number_integer()) {
      const auto value = weight->get<std::int64_t>();
      if (value > 0 && value <= std::numeric_limits<std::uint32_t>::max()) {
        endpoint.weight = static_cast<std::uint32_t>(value);
      }
    }
    endpoint.service_account = Text(*spec, "serviceAccount");
    endpoint.cluster = Text(*labels, kClusterLabel);
    if (const json* ports = Member(*spec, "ports"); ports && ports->is_object()) {
      // Only the ServiceEntry's own port names: a taken-over Service's named
      // targetPorts are rendered again from the plan.
      std::set<std::string> declared;
      for (const ServiceEntryPort& port : it->second.ports)
        declared.insert(port.name);
      for (const auto& [name, number] : ports->items()) {
        if (declared.contains(name) && number.is_number_integer())
          endpoint.ports.emplace_back(name, number.get<std::int32_t>());
      }
      std::sort(endpoint.ports.begin(), endpoint.ports.end());
    }
    it->second.endpoints.push_back(std::move(endpoint));
  }
  std::vector<ServiceEntry> out;
  out.reserve(by_key.size());
  for (auto& [key, entry] : by_key) {
    std::sort(entry.endpoints.begin(), entry.endpoints.end(), [](const auto& a, const auto& b) {
      return std::tie(a.cluster, a.address, a.network, a.locality) <
             std::tie(b.cluster, b.address, b.network, b.locality);
    });
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace globalsvc::mesh
