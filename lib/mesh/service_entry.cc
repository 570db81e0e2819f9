#include "lib/mesh/service_entry.h"

#include "lib/base/hash.h"
#include "lib/mesh/model.h"

namespace globalsvc::mesh {

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

  json spec = {{"hosts", json::array({entry.host})},
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

  return {
      {"apiVersion", "networking.istio.io/v1"},
      {"kind", "ServiceEntry"},
      {"metadata",
       {{"name", entry.name},
        {"namespace", entry.namespace_name},
        {"labels",
         {{kManagedByLabel, kManagedByValue},
          {kParentServiceLabel, entry.service_name},
          {kParentServiceNamespaceLabel, entry.service_namespace},
          {kScopeLabel, "global"}}},
        {"annotations", {{kTrafficDistributionAnnotation, entry.traffic_distribution}}}}},
      {"spec", std::move(spec)},
  };
}

std::string ContentHash(const ServiceEntry& entry) {
  return HexHash(Fnv1a64(ToJson(entry).dump()));
}

}  // namespace globalsvc::mesh
