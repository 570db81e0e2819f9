#include "lib/mesh/plan_endpoints.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "lib/mesh/locality.h"

namespace globalsvc::mesh {
namespace {

// Addresses no pod can have, which would send this cluster's clients to
// themselves, to a metadata service or nowhere: loopback, link-local
// (169.254.169.254 is the cloud metadata service), unspecified, multicast,
// broadcast. A cluster's EndpointSlices are written by whoever controls it.
bool IsRefusedIPv4(const in_addr& address) {
  const std::uint32_t a = ntohl(address.s_addr);
  return (a >> 24) == 0 || (a >> 24) == 127 || (a >> 16) == 0xA9FE || (a >> 28) == 0xE ||
         a == 0xFFFFFFFF;
}

bool IsRefusedIPv6(const in6_addr& address) {
  const std::uint8_t* b = address.s6_addr;
  if (b[0] == 0xFF) return true;                           // multicast
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return true;  // link-local
  bool zero_prefix = true;
  for (int i = 0; i < 10; ++i)
    zero_prefix &= b[i] == 0;
  if (zero_prefix && b[10] == 0xFF && b[11] == 0xFF) {  // IPv4-mapped: judge the IPv4 address
    in_addr v4{};
    std::memcpy(&v4.s_addr, b + 12, 4);
    return IsRefusedIPv4(v4);
  }
  if (!zero_prefix || b[10] != 0 || b[11] != 0 || b[12] != 0 || b[13] != 0 || b[14] != 0) {
    return false;
  }
  return b[15] <= 1;  // :: (unspecified) and ::1 (loopback)
}

struct ParsedAddress {
  std::string canonical;  // empty when invalid
  bool refused = false;
};

// Canonical text of an IP address of the slice's family (empty if invalid),
// and whether it is one that is refused.
ParsedAddress CanonicalAddress(const std::string& address, AddressType type) {
  if (type == AddressType::kIPv4) {
    in_addr parsed{};
    if (inet_pton(AF_INET, address.c_str(), &parsed) != 1) return {};
    return {address, IsRefusedIPv4(parsed)};
  }
  in6_addr parsed{};
  if (inet_pton(AF_INET6, address.c_str(), &parsed) != 1) return {};
  char text[INET6_ADDRSTRLEN];
  if (!inet_ntop(AF_INET6, &parsed, text, sizeof(text))) return {};
  return {text, IsRefusedIPv6(parsed)};
}

// The endpoint port map of one slice: ServiceEntry port name -> the slice's
// port number for the Service port of the same number in this cluster.
std::vector<std::pair<std::string, std::int32_t>> SlicePortMap(
    const EndpointSlice& slice, const Service& service,
    const std::vector<ServiceEntryPort>& entry_ports) {
  std::vector<std::pair<std::string, std::int32_t>> map;
  for (const ServiceEntryPort& entry_port : entry_ports) {
    auto service_port = std::find_if(
        service.ports.begin(), service.ports.end(),
        [&](const ServicePort& p) { return p.port == entry_port.number && p.protocol == "TCP"; });
    if (service_port == service.ports.end()) continue;
    auto slice_port = std::find_if(
        slice.ports.begin(), slice.ports.end(),
        [&](const EndpointPort& p) { return p.name == service_port->name && p.protocol == "TCP"; });
    if (slice_port == slice.ports.end() || slice_port->port < 1 || slice_port->port > 65535) {
      continue;
    }
    map.emplace_back(entry_port.name, slice_port->port);
  }
  std::sort(map.begin(), map.end());
  return map;
}

// An address listed in two slices (a pod moving between slices) counts once;
// the first slice by name wins. Sorting here also saves work later.
void DropDuplicateAddresses(std::vector<ReadyAddress>& addresses) {
  std::stable_sort(
      addresses.begin(), addresses.end(),
      [](const ReadyAddress& a, const ReadyAddress& b) { return a.address < b.address; });
  addresses.erase(std::unique(addresses.begin(), addresses.end(),
                              [](const ReadyAddress& a, const ReadyAddress& b) {
                                return a.address == b.address;
                              }),
                  addresses.end());
}

Locality EndpointLocality(const ClusterState& cluster, const Endpoint& endpoint) {
  Locality locality;
  if (const Node* node = cluster.FindNode(endpoint.node_name)) {
    locality = {node->region, node->zone, node->subzone};
  }
  if (locality.zone.empty()) locality.zone = endpoint.zone;
  if (locality.region.empty() && !locality.zone.empty()) {
    locality.region = cluster.RegionOfZone(locality.zone);
  }
  return locality;
}

// Addresses left out, counted for one diagnostic each.
struct SkippedAddresses {
  std::size_t invalid = 0;
  std::size_t refused = 0;
  std::vector<std::string> refused_examples;  // a few for the message
};

void ReportSkipped(const Contributor& c, const SkippedAddresses& skipped, AddressType family,
                   Diagnostics& diagnostics) {
  if (skipped.invalid > 0) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kInvalidAddress,
           ServiceRef(*c.cluster, *c.service),
           std::to_string(skipped.invalid) + " endpoint address(es) are not valid " +
               (family == AddressType::kIPv4 ? "IPv4" : "IPv6") + " addresses; skipped");
  }
  if (skipped.refused > 0) {
    std::string examples;
    for (const auto& address : skipped.refused_examples)
      examples += (examples.empty() ? "" : ", ") + address;
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kRefusedAddress,
           ServiceRef(*c.cluster, *c.service),
           std::to_string(skipped.refused) +
               " endpoint address(es) are loopback, link-local, unspecified, multicast or "
               "broadcast (" +
               examples + (skipped.refused > skipped.refused_examples.size() ? ", ..." : "") +
               "): no pod has one; skipped");
  }
}

// One slice's ready and terminating-but-serving addresses of `family`.
void CollectSliceAddresses(const EndpointSlice& slice, AddressType family,
                           const std::vector<std::pair<std::string, std::int32_t>>* port_map,
                           ClusterAddresses& out, SkippedAddresses& skipped) {
  for (const Endpoint& endpoint : slice.endpoints) {
    const bool ready = endpoint.conditions.ready.value_or(true);
    const bool serving = endpoint.conditions.serving.value_or(ready);
    const bool terminating = endpoint.conditions.terminating.value_or(false);
    if (!ready && !(serving && terminating)) continue;
    ParsedAddress address = CanonicalAddress(endpoint.address, family);
    if (address.canonical.empty()) {
      ++skipped.invalid;
      continue;
    }
    if (address.refused) {
      if (skipped.refused_examples.size() < 3) {
        skipped.refused_examples.push_back(address.canonical);
      }
      ++skipped.refused;
      continue;
    }
    auto& list = ready ? out.ready : out.terminating;
    list.push_back({std::move(address.canonical), &endpoint, port_map});
  }
}

}  // namespace

ClusterAddresses CollectAddresses(const Contributor& c, const std::string& key,
                                  const std::vector<ServiceEntryPort>& entry_ports,
                                  Diagnostics& diagnostics) {
  ClusterAddresses out;
  const auto* slices = c.cluster->FindSlices(key);
  if (!slices) return out;

  bool has_ipv4 = false;
  bool has_ipv6 = false;
  for (const auto& [name, slice] : *slices) {
    has_ipv4 |= slice.address_type == AddressType::kIPv4;
    has_ipv6 |= slice.address_type == AddressType::kIPv6;
  }
  const AddressType family = has_ipv4 ? AddressType::kIPv4 : AddressType::kIPv6;

  SkippedAddresses skipped;
  for (const auto& [name, slice] : *slices) {
    if (slice.address_type == AddressType::kFQDN) {
      Report(diagnostics, Severity::kWarning, DiagnosticCode::kUnsupportedAddressType,
             {c.cluster->name(), "EndpointSlice", slice.namespace_name, slice.name},
             "FQDN EndpointSlices cannot be exported; skipped");
      continue;
    }
    if (slice.address_type != family) continue;
    auto& port_map = out.port_maps.emplace_back(
        std::make_unique<std::vector<std::pair<std::string, std::int32_t>>>(
            SlicePortMap(slice, *c.service, entry_ports)));
    CollectSliceAddresses(slice, family, port_map.get(), out, skipped);
  }
  DropDuplicateAddresses(out.ready);
  DropDuplicateAddresses(out.terminating);
  ReportSkipped(c, skipped, family, diagnostics);
  if (has_ipv4 && has_ipv6) {
    Report(diagnostics, Severity::kInfo, DiagnosticCode::kUnsupportedAddressType,
           ServiceRef(*c.cluster, *c.service),
           "dual-stack EndpointSlices: the IPv4 addresses are exported, once per pod");
  }
  return out;
}

void AddDirectEndpoints(const Contributor& c, const std::vector<ReadyAddress>& addresses,
                        std::vector<ServiceEntryEndpoint>& out, Diagnostics& diagnostics) {
  std::size_t without_locality = 0;
  for (const ReadyAddress& ready : addresses) {
    ServiceEntryEndpoint endpoint;
    endpoint.address = ready.address;
    endpoint.network = c.cluster->network();
    endpoint.locality = FormatLocality(EndpointLocality(*c.cluster, *ready.endpoint));
    if (endpoint.locality.empty()) ++without_locality;
    endpoint.cluster = c.cluster->name();
    endpoint.ports = *ready.ports;
    if (!ready.endpoint->pod_name.empty()) {
      endpoint.service_account =
          c.cluster->ServiceAccountOf(c.service->namespace_name, ready.endpoint->pod_name);
    }
    out.push_back(std::move(endpoint));
  }
  if (without_locality > 0) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kMissingLocality,
           ServiceRef(*c.cluster, *c.service),
           std::to_string(without_locality) +
               " endpoint(s) have no region (node without topology.kubernetes.io/region); "
               "locality-aware failover cannot place them");
  }
}

void AddGatewayEndpoints(const Contributor& c, const std::vector<ReadyAddress>& addresses,
                         std::vector<ServiceEntryEndpoint>& out, Diagnostics& diagnostics) {
  if (addresses.empty()) return;
  const auto& gateways = c.cluster->gateways();
  if (gateways.empty()) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kNoGateway,
           ServiceRef(*c.cluster, *c.service),
           "cluster " + c.cluster->name() + " is on network " + c.cluster->network() +
               " without an east-west gateway; its " + std::to_string(addresses.size()) +
               " endpoint(s) are unreachable and not exported");
    return;
  }
  std::map<std::string, std::uint32_t> fronted;  // gateway name -> endpoints
  for (const ReadyAddress& ready : addresses) {
    const std::string zone = EndpointLocality(*c.cluster, *ready.endpoint).zone;
    auto gateway = std::find_if(gateways.begin(), gateways.end(), [&](const auto& entry) {
      return !zone.empty() && entry.second.zone == zone;
    });
    if (gateway == gateways.end()) gateway = gateways.begin();
    ++fronted[gateway->first];
  }
  // Gateways that read alike (same network, and a locality that says the
  // same, e.g. none) give one endpoint: two would be one workload to istiod.
  std::map<std::pair<std::string, std::string>, std::uint32_t> by_place;
  for (const auto& [name, count] : fronted) {
    const Gateway& gateway = gateways.at(name);
    const std::string network = gateway.network.empty() ? c.cluster->network() : gateway.network;
    const std::string locality = FormatLocality({gateway.region, gateway.zone, gateway.subzone});
    if (locality.empty()) {
      Report(diagnostics, Severity::kWarning, DiagnosticCode::kMissingLocality,
             {c.cluster->name(), "Deployment", "", gateway.name},
             "east-west gateway has no topology.kubernetes.io/region label; the " +
                 std::to_string(count) + " endpoint(s) behind it have no locality");
    }
    by_place[{network, locality}] += count;
  }
  for (const auto& [place, count] : by_place) {
    ServiceEntryEndpoint endpoint;
    endpoint.network = place.first;
    endpoint.locality = place.second;
    endpoint.weight = count;
    endpoint.cluster = c.cluster->name();
    out.push_back(std::move(endpoint));
  }
}

}  // namespace globalsvc::mesh
