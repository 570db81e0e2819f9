#include "lib/mesh/carried_endpoints.h"

#include <algorithm>

#include "lib/mesh/cluster_state.h"

namespace globalsvc::mesh {

std::map<std::string, CarriedServices> CarryOver(const std::vector<ServiceEntry>& entries,
                                                 const std::set<std::string>& clusters) {
  std::map<std::string, CarriedServices> out;
  for (const ServiceEntry& entry : entries) {
    if (entry.service_namespace.empty() || entry.service_name.empty()) continue;
    const std::string key = ServiceKey(entry.service_namespace, entry.service_name);
    for (const ServiceEntryEndpoint& endpoint : entry.endpoints) {
      if (!clusters.count(endpoint.cluster)) continue;
      CarriedService& carried = out[endpoint.cluster][key];
      if (carried.endpoints.empty()) {
        carried.ports = entry.ports;
        carried.traffic_distribution = RequestedTrafficDistribution(entry);
      }
      carried.endpoints.push_back(endpoint);
    }
  }
  return out;
}

namespace {

// The parts' ports whose number and name are both still free, by number.
void AddCarriedPorts(const std::vector<CarriedPart>& parts, ServiceEntry& entry) {
  for (const CarriedPart& part : parts) {
    for (const ServiceEntryPort& port : part.service->ports) {
      const bool taken = std::any_of(entry.ports.begin(), entry.ports.end(), [&](const auto& p) {
        return p.number == port.number || p.name == port.name;
      });
      if (!taken) entry.ports.push_back(port);
    }
  }
  std::sort(
      entry.ports.begin(), entry.ports.end(),
      [](const ServiceEntryPort& a, const ServiceEntryPort& b) { return a.number < b.number; });
}

// The parts' endpoints up to the cap, with only the entry's port names;
// returns how many were left out.
std::size_t AddCarriedEndpoints(const std::vector<CarriedPart>& parts, std::size_t max_endpoints,
                                ServiceEntry& entry) {
  std::size_t left_out = 0;
  for (const CarriedPart& part : parts) {
    for (ServiceEntryEndpoint endpoint : part.service->endpoints) {
      if (entry.endpoints.size() >= max_endpoints) {
        ++left_out;
        continue;
      }
      std::erase_if(endpoint.ports, [&](const auto& mapped) {
        return std::none_of(entry.ports.begin(), entry.ports.end(),
                            [&](const ServiceEntryPort& p) { return p.name == mapped.first; });
      });
      endpoint.cluster = part.cluster;
      entry.endpoints.push_back(std::move(endpoint));
    }
  }
  std::sort(entry.endpoints.begin(), entry.endpoints.end(), EndpointLess);
  return left_out;
}

}  // namespace

std::optional<ServiceEntry> MergeCarried(std::optional<ServiceEntry> planned,
                                         std::string_view service_namespace,
                                         std::string_view service_name,
                                         std::span<const CarriedPart> parts,
                                         const PlanOptions& options, Diagnostics& diagnostics) {
  std::vector<CarriedPart> sorted;
  for (const CarriedPart& part : parts) {
    if (part.service && !part.service->endpoints.empty()) sorted.push_back(part);
  }
  if (sorted.empty()) return planned;
  std::sort(sorted.begin(), sorted.end(),
            [](const CarriedPart& a, const CarriedPart& b) { return a.cluster < b.cluster; });

  ServiceEntry entry;
  if (planned) {
    entry = std::move(*planned);
  } else {
    entry.name = ServiceEntryName(service_namespace, service_name);
    entry.namespace_name = options.control_plane_namespace;
    entry.service_namespace = std::string(service_namespace);
    entry.service_name = std::string(service_name);
    entry.host = entry.service_name + "." + entry.service_namespace + "." + options.host_suffix;
    SetTrafficDistribution(entry, sorted.front().service->traffic_distribution);
  }

  AddCarriedPorts(sorted, entry);
  const std::size_t left_out = AddCarriedEndpoints(sorted, options.max_endpoints, entry);
  if (left_out > 0) {
    diagnostics.push_back(
        {Severity::kError,
         DiagnosticCode::kEndpointCapExceeded,
         {options.target_cluster, "ServiceEntry", entry.namespace_name, entry.name},
         std::to_string(left_out) +
             " carried-over endpoint(s) of unsynced clusters exceed Istio's "
             "limit of " +
             std::to_string(options.max_endpoints) + " per ServiceEntry and were left out"});
  }
  return entry;
}

}  // namespace globalsvc::mesh
