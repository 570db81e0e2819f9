#include "lib/mesh/service_entry.h"

#include <algorithm>
#include <tuple>

#include "lib/base/hash.h"
#include "lib/mesh/model.h"
#include "lib/mesh/owned_hash.h"
#include "lib/mesh/traffic_distribution.h"

namespace globalsvc::mesh {

void SetTrafficDistribution(ServiceEntry& entry, std::string_view requested) {
  entry.traffic_distribution = WrittenTrafficDistribution(requested);
  // Always written, so globalsvc owns the annotation: one set by another
  // writer would otherwise stay (server-side apply leaves others' fields) and
  // count in the hash forever.
  entry.requested_traffic_distribution = std::string(requested);
}

const std::string& RequestedTrafficDistribution(const ServiceEntry& entry) {
  return entry.requested_traffic_distribution.empty() ? entry.traffic_distribution
                                                      : entry.requested_traffic_distribution;
}

std::string ServiceEntryName(std::string_view service_namespace, std::string_view service_name) {
  std::string name = "autogen.";
  name.append(service_namespace).append(".").append(service_name);
  return name;
}

nlohmann::json ToJson(const ServiceEntry& entry) {
  using nlohmann::json;
  json ports = json::array();
  for (const auto& port : entry.ports) {
    json p = {{"name", port.name}, {"number", port.number}, {"protocol", port.protocol}};
    if (port.target_port != 0) p["targetPort"] = port.target_port;
    ports.push_back(std::move(p));
  }

  json spec = {{"hosts", HostsJson(entry)},
               {"location", "MESH_INTERNAL"},
               {"resolution", "STATIC"},
               {"ports", std::move(ports)}};

  if (!entry.endpoints.empty()) {
    json endpoints = json::array();
    for (const auto& endpoint : entry.endpoints) {
      json e = json::object();
      if (!endpoint.address.empty()) e["address"] = endpoint.address;
      if (!endpoint.network.empty()) e["network"] = endpoint.network;
      if (!endpoint.locality.empty()) e["locality"] = endpoint.locality;
      if (endpoint.weight != 0) e["weight"] = endpoint.weight;
      if (!endpoint.cluster.empty()) e["labels"] = {{kClusterLabel, endpoint.cluster}};
      if (!endpoint.ports.empty()) {
        json port_map = json::object();
        for (const auto& [name, number] : endpoint.ports)
          port_map[name] = number;
        e["ports"] = std::move(port_map);
      }
      endpoints.push_back(std::move(e));
    }
    spec["endpoints"] = std::move(endpoints);
  }

  json annotations = {{kTrafficDistributionAnnotation, entry.traffic_distribution}};
  if (!entry.requested_traffic_distribution.empty()) {
    annotations[kRequestedTrafficDistributionAnnotation] = entry.requested_traffic_distribution;
  }
  json labels = {{kManagedByLabel, kManagedByValue},
                 {kParentServiceLabel, entry.service_name},
                 {kParentServiceNamespaceLabel, entry.service_namespace},
                 {kScopeLabel, "global"}};
  if (entry.takeover) labels[kServiceTakeoverLabel] = "true";
  if (!entry.segment.empty()) labels[kSegmentObjectLabel] = entry.segment;
  return {
      {"apiVersion", "networking.istio.io/v1"},
      {"kind", "ServiceEntry"},
      {"metadata",
       {{"name", entry.name},
        {"namespace", entry.namespace_name},
        {"labels", std::move(labels)},
        {"annotations", std::move(annotations)}}},
      {"spec", std::move(spec)},
  };
}

nlohmann::json HostsJson(const ServiceEntry& entry) {
  nlohmann::json hosts = nlohmann::json::array({entry.host});
  if (!entry.cluster_local_host.empty()) hosts.push_back(entry.cluster_local_host);
  for (const auto& alias : entry.alias_hosts)
    hosts.push_back(alias);
  return hosts;
}

namespace {

std::string StringField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t IntegerField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return 0;
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

const nlohmann::json& ObjectField(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  if (!object.is_object()) return kEmpty;
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

const nlohmann::json& ArrayField(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  if (!object.is_object()) return kEmpty;
  auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : kEmpty;
}

}  // namespace

std::optional<ServiceEntry> ServiceEntryFromJson(const nlohmann::json& object) {
  const auto& metadata = ObjectField(object, "metadata");
  const auto& labels = ObjectField(metadata, "labels");
  const auto& spec = ObjectField(object, "spec");
  ServiceEntry entry;
  entry.name = StringField(metadata, "name");
  entry.namespace_name = StringField(metadata, "namespace");
  entry.service_name = StringField(labels, kParentServiceLabel);
  entry.service_namespace = StringField(labels, kParentServiceNamespaceLabel);
  const auto& annotations = ObjectField(metadata, "annotations");
  entry.traffic_distribution = StringField(annotations, kTrafficDistributionAnnotation);
  entry.requested_traffic_distribution =
      StringField(annotations, kRequestedTrafficDistributionAnnotation);
  const auto& hosts = ArrayField(spec, "hosts");
  if (!hosts.empty() && hosts.front().is_string()) entry.host = hosts.front().get<std::string>();
  // After the global host: the cluster-local one (<svc>.<ns>.svc.<domain>)
  // under takeover, then aliases.
  const std::string cluster_local_prefix =
      entry.service_name + "." + entry.service_namespace + ".svc.";
  for (std::size_t i = 1; i < hosts.size(); ++i) {
    if (!hosts[i].is_string()) continue;
    std::string host = hosts[i].get<std::string>();
    if (i == 1 && host.starts_with(cluster_local_prefix)) {
      entry.cluster_local_host = std::move(host);
    } else {
      entry.alias_hosts.push_back(std::move(host));
    }
  }
  entry.segment = StringField(labels, kSegmentObjectLabel);
  entry.takeover = StringField(labels, kServiceTakeoverLabel) == "true";
  for (const auto& p : ArrayField(spec, "ports")) {
    ServiceEntryPort port;
    port.name = StringField(p, "name");
    port.number = static_cast<std::int32_t>(IntegerField(p, "number"));
    port.protocol = StringField(p, "protocol");
    port.target_port = static_cast<std::int32_t>(IntegerField(p, "targetPort"));
    if (port.name.empty() || port.number <= 0) continue;
    entry.ports.push_back(std::move(port));
  }
  for (const auto& e : ArrayField(spec, "endpoints")) {
    ServiceEntryEndpoint endpoint;
    endpoint.address = StringField(e, "address");
    endpoint.network = StringField(e, "network");
    endpoint.locality = StringField(e, "locality");
    endpoint.weight = static_cast<std::uint32_t>(IntegerField(e, "weight"));
    endpoint.cluster = StringField(ObjectField(e, "labels"), kClusterLabel);
    for (const auto& [name, number] : ObjectField(e, "ports").items()) {
      if (number.is_number_integer()) {
        endpoint.ports.emplace_back(name, number.get<std::int32_t>());
      }
    }
    std::sort(endpoint.ports.begin(), endpoint.ports.end());
    entry.endpoints.push_back(std::move(endpoint));
  }
  if (entry.name.empty() || entry.host.empty() || entry.ports.empty()) return std::nullopt;
  return entry;
}

std::string ContentHash(const ServiceEntry& entry) {
  return ContentHash(ToJson(entry));
}

std::string ContentHash(const nlohmann::json& stored) {
  static const OwnedFieldList kOwned{
      .labels = {kManagedByLabel, kParentServiceLabel, kParentServiceNamespaceLabel, kScopeLabel,
                 kServiceTakeoverLabel, kSegmentObjectLabel},
      .annotations = {kTrafficDistributionAnnotation, kRequestedTrafficDistributionAnnotation},
      .spec = {"hosts", "location", "resolution", "ports", "endpoints"},
      .labels_named_by = {}};
  return OwnedFieldsHash(stored, kOwned);
}

bool EndpointLess(const ServiceEntryEndpoint& a, const ServiceEntryEndpoint& b) {
  return std::tie(a.cluster, a.address, a.network, a.locality, a.weight) <
         std::tie(b.cluster, b.address, b.network, b.locality, b.weight);
}

}  // namespace globalsvc::mesh
