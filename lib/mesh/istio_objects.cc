#include "lib/mesh/istio_objects.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "lib/base/hash.h"
#include "lib/base/json_fields.h"
#include "lib/mesh/model.h"
#include "lib/mesh/owned_hash.h"

namespace globalsvc::mesh {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxLabelValue = 63;

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
    std::string added;
    for (const auto& [target_name, service_port] : entry.takeover_named_ports) {
      if (ports.contains(target_name)) continue;
      added += (added.empty() ? "" : ",") + target_name;
      std::int32_t number = service_port;
      for (const auto& port : entry.ports) {
        if (port.number != service_port) continue;
        for (const auto& [name, value] : endpoint.ports) {
          if (name == port.name) number = value;
        }
      }
      ports[target_name] = number;
    }
    if (!added.empty()) annotations[kTakeoverPortsAnnotation] = added;
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

std::vector<std::string> AnnotationList(std::string_view text) {
  std::vector<std::string> names;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    names.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return names;
}

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

namespace {

// Built once per kind: the hash runs for every write and every watched change.
OwnedFieldList OwnedFieldsOf(std::vector<std::string_view> spec) {
  return {
      .labels = {kManagedByLabel, kParentServiceLabel, kParentServiceNamespaceLabel, kScopeLabel,
                 kGlobalServiceLabel, kClusterLabel, kNetworkLabel, kUseWaypointLabel,
                 kUseWaypointNamespaceLabel, kServiceTakeoverLabel, kSegmentObjectLabel},
      .annotations = {kTrafficDistributionAnnotation, kRequestedTrafficDistributionAnnotation,
                      kTakeoverLabelsAnnotation, kTakeoverPortsAnnotation},
      .spec = std::move(spec),
      // The labels a taken-over Service selects are ours too.
      .labels_named_by = kTakeoverLabelsAnnotation};
}

const OwnedFieldList& OwnedFieldsFor(const std::string& kind) {
  static const OwnedFieldList kServiceEntry =
      OwnedFieldsOf({"hosts", "location", "resolution", "ports", "workloadSelector",
                     "subjectAltNames", "endpoints"});
  static const OwnedFieldList kWorkloadEntry = OwnedFieldsOf(
      {"address", "network", "locality", "weight", "serviceAccount", "ports", "labels"});
  static const OwnedFieldList kGateway =
      OwnedFieldsOf({"gatewayClassName", "addresses", "listeners"});
  static const OwnedFieldList kOther = OwnedFieldsOf({});
  if (kind == "ServiceEntry") return kServiceEntry;
  if (kind == "WorkloadEntry") return kWorkloadEntry;
  if (kind == "Gateway") return kGateway;
  return kOther;
}

}  // namespace

std::string OwnedContentHash(const json& object) {
  return OwnedFieldsHash(object, OwnedFieldsFor(StringFieldAt(object, {"kind"})));
}

}  // namespace globalsvc::mesh
