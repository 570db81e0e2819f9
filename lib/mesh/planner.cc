#include "lib/mesh/planner.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include "lib/mesh/aliases.h"
#include "lib/mesh/locality.h"
#include "lib/mesh/port_protocol.h"
#include "lib/mesh/scope.h"
#include "lib/mesh/segments.h"
#include "lib/mesh/takeover.h"
#include "lib/mesh/traffic_distribution.h"

namespace globalsvc::mesh {
namespace {

struct Contributor {
  const ClusterState* cluster;
  const Service* service;
  ScopeValue scope = ScopeValue::kGlobal;
};

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

// One address chosen from an EndpointSlice, with what is needed to place it.
struct ReadyAddress {
  std::string address;
  const Endpoint* endpoint;
  const std::vector<std::pair<std::string, std::int32_t>>* ports;
};

struct ClusterAddresses {
  std::vector<ReadyAddress> ready;
  std::vector<ReadyAddress> terminating;  // serving but terminating
  // Port maps per slice, referenced by ReadyAddress::ports (stable storage).
  std::vector<std::unique_ptr<std::vector<std::pair<std::string, std::int32_t>>>> port_maps;
};

ObjectRef ServiceRef(const ClusterState& cluster, const Service& service) {
  return {cluster.name(), "Service", service.namespace_name, service.name};
}

void Report(Diagnostics& diagnostics, Severity severity, DiagnosticCode code, ObjectRef object,
            std::string message) {
  diagnostics.push_back({severity, code, std::move(object), std::move(message)});
}

std::string DescribePort(const ServiceEntryPort& port) {
  return "name=" + port.name + " protocol=" + port.protocol;
}

// Merges the ports of every contributor, given in precedence order: the local
// cluster's Service first (when it exports one), then the remote clusters' by
// name. The first definition of a port number wins, and so does the first use
// of a port name. Creation timestamps play no part: whoever controls a remote
// cluster writes them, and could backdate a Service to take a port over.
std::vector<ServiceEntryPort> MergePorts(const std::vector<Contributor>& by_precedence,
                                         const ClusterState& target, Diagnostics& diagnostics) {
  std::map<std::int32_t, std::pair<ServiceEntryPort, const ClusterState*>> by_number;
  std::map<std::string, std::int32_t> number_of_name;
  for (const Contributor& c : by_precedence) {
    for (const ServicePort& port : c.service->ports) {
      if (port.protocol != "TCP") {
        Report(diagnostics, Severity::kInfo, DiagnosticCode::kNonTcpPort,
               ServiceRef(*c.cluster, *c.service),
               "port " + std::to_string(port.port) + "/" + port.protocol +
                   " is not exported: the mesh carries TCP only");
        continue;
      }
      if (port.port < 1 || port.port > 65535) {
        Report(diagnostics, Severity::kWarning, DiagnosticCode::kInvalidObject,
               ServiceRef(*c.cluster, *c.service),
               "port number " + std::to_string(port.port) + " is outside 1-65535; skipped");
        continue;
      }
      ServiceEntryPort candidate{
          port.name.empty() ? "port-" + std::to_string(port.port) : port.name, port.port,
          IstioProtocol(port.name, port.app_protocol),
          port.target_port > 0 && port.target_port <= 65535 ? port.target_port : 0};
      if (auto it = by_number.find(port.port); it != by_number.end()) {
        const auto& [winner, winner_cluster] = it->second;
        if (winner.name != candidate.name || winner.protocol != candidate.protocol) {
          const std::string why = winner_cluster == &target
                                      ? "the local cluster's"
                                      : "cluster " + winner_cluster->name() + "'s: first by name";
          Report(diagnostics, Severity::kWarning, DiagnosticCode::kPortConflict,
                 ServiceRef(*c.cluster, *c.service),
                 "port " + std::to_string(port.port) + " (" + DescribePort(candidate) +
                     ") conflicts with the definition in cluster " + winner_cluster->name() + " (" +
                     DescribePort(winner) + "); kept " + why);
        }
        continue;
      }
      if (auto it = number_of_name.find(candidate.name); it != number_of_name.end()) {
        Report(diagnostics, Severity::kWarning, DiagnosticCode::kPortNameConflict,
               ServiceRef(*c.cluster, *c.service),
               "port name " + candidate.name + " is already used by port " +
                   std::to_string(it->second) + "; port " + std::to_string(port.port) +
                   " is skipped");
        continue;
      }
      number_of_name.emplace(candidate.name, candidate.number);
      by_number.emplace(port.port, std::make_pair(std::move(candidate), c.cluster));
    }
  }
  std::vector<ServiceEntryPort> ports;
  ports.reserve(by_number.size());
  for (auto& [number, entry] : by_number)
    ports.push_back(std::move(entry.first));
  return ports;
}

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

  std::size_t invalid = 0;
  std::size_t refused_count = 0;
  std::vector<std::string> refused;  // a few examples for the message
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
    for (const Endpoint& endpoint : slice.endpoints) {
      const bool ready = endpoint.conditions.ready.value_or(true);
      const bool serving = endpoint.conditions.serving.value_or(ready);
      const bool terminating = endpoint.conditions.terminating.value_or(false);
      if (!ready && !(serving && terminating)) continue;
      ParsedAddress address = CanonicalAddress(endpoint.address, family);
      if (address.canonical.empty()) {
        ++invalid;
        continue;
      }
      if (address.refused) {
        if (refused.size() < 3) refused.push_back(address.canonical);
        ++refused_count;
        continue;
      }
      auto& list = ready ? out.ready : out.terminating;
      list.push_back({std::move(address.canonical), &endpoint, port_map.get()});
    }
  }
  DropDuplicateAddresses(out.ready);
  DropDuplicateAddresses(out.terminating);
  if (invalid > 0) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kInvalidAddress,
           ServiceRef(*c.cluster, *c.service),
           std::to_string(invalid) + " endpoint address(es) are not valid " +
               (family == AddressType::kIPv4 ? "IPv4" : "IPv6") + " addresses; skipped");
  }
  if (refused_count > 0) {
    std::string examples;
    for (const auto& address : refused)
      examples += (examples.empty() ? "" : ", ") + address;
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kRefusedAddress,
           ServiceRef(*c.cluster, *c.service),
           std::to_string(refused_count) +
               " endpoint address(es) are loopback, link-local, unspecified, multicast or "
               "broadcast (" +
               examples + (refused_count > refused.size() ? ", ..." : "") +
               "): no pod has one; skipped");
  }
  if (has_ipv4 && has_ipv6) {
    Report(diagnostics, Severity::kInfo, DiagnosticCode::kUnsupportedAddressType,
           ServiceRef(*c.cluster, *c.service),
           "dual-stack EndpointSlices: the IPv4 addresses are exported, once per pod");
  }
  return out;
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

// Endpoints on another network are reached through that cluster's east-west
// gateways: one aggregated endpoint per gateway place (network and
// locality), weighted by the ready endpoints it fronts. An endpoint is
// fronted by the gateway of its own zone when there is one, else by the
// first gateway by name.
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

// Keeps at most `cap` endpoints. The cap is split between the contributing
// clusters with max-min fairness, the local cluster served first, so no
// cluster (least of all the local one) can be crowded out by another that
// lists more endpoints or invents more localities; each cluster's share is
// taken round-robin across its localities. Gateway endpoints count as their
// cluster's endpoints.
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

// The Service's annotation, else its spec.trafficDistribution, else its
// Namespace's annotation (in the Service's own cluster).
std::string ExplicitTrafficDistribution(const Contributor& c) {
  const Service& service = *c.service;
  if (service.traffic_distribution_annotation &&
      !service.traffic_distribution_annotation->empty()) {
    return *service.traffic_distribution_annotation;
  }
  if (!service.traffic_distribution_spec.empty()) return service.traffic_distribution_spec;
  const Namespace* ns = c.cluster->FindNamespace(service.namespace_name);
  if (ns != nullptr && ns->traffic_distribution_annotation) {
    return *ns->traffic_distribution_annotation;
  }
  return {};
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Two requested values that end up the same on the ServiceEntry as upstream
// applies it (PreferNetwork and PreferClose; PreferClose and PreferSameZone).
bool SameEffect(std::string_view a, std::string_view b) {
  if (EqualsIgnoreCase(a, b)) return true;
  const TrafficDistribution written_a = ParseTrafficDistribution(WrittenTrafficDistribution(a));
  const TrafficDistribution written_b = ParseTrafficDistribution(WrittenTrafficDistribution(b));
  return written_a != TrafficDistribution::kUnknown && written_a == written_b;
}

std::string DecideTrafficDistribution(const std::vector<Contributor>& contributors,
                                      const ClusterState& target, Diagnostics& diagnostics) {
  std::string value;
  const Contributor* decided_by = nullptr;
  auto local = std::find_if(contributors.begin(), contributors.end(),
                            [&](const Contributor& c) { return c.cluster == &target; });
  if (local != contributors.end()) {
    value = ExplicitTrafficDistribution(*local);
    decided_by = &*local;
  } else {
    // No local Service: use the value every remote cluster agrees on.
    for (const Contributor& c : contributors) {
      std::string remote = ExplicitTrafficDistribution(c);
      if (remote.empty()) remote = kDefaultTrafficDistribution;
      if (!decided_by) {
        value = std::move(remote);
        decided_by = &c;
      } else if (!SameEffect(value, remote)) {
        Report(diagnostics, Severity::kWarning, DiagnosticCode::kTrafficDistributionDisagreement,
               ServiceRef(*c.cluster, *c.service),
               "remote clusters disagree on the traffic distribution (" + value + " in " +
                   decided_by->cluster->name() + ", " + remote + " in " + c.cluster->name() +
                   "); using " + kDefaultTrafficDistribution);
        return kDefaultTrafficDistribution;
      }
    }
  }
  if (value.empty()) return kDefaultTrafficDistribution;
  if (!IsKnownTrafficDistribution(value)) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kUnknownTrafficDistribution,
           ServiceRef(*decided_by->cluster, *decided_by->service),
           "traffic distribution '" + value +
               "' is not one of PreferNetwork, PreferRegion, PreferClose, PreferSameZone, "
               "PreferSameNode; ztunnel will apply no locality preference");
  }
  return value;
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

std::string Unquoted(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ", ") + item;
  return out;
}

// solo.io/service-takeover (takeover.h) and what upstream istiod can make of
// it. Without a Service of that name here, the ServiceEntry also carries the
// cluster-local name. With a global one, its selector goes onto the other
// clusters' WorkloadEntries so that istiod adds them to the Service itself
// (PILOT_ENABLE_K8S_SELECT_WORKLOAD_ENTRIES, on by default). A Service here
// that is not global keeps its name and endpoints: nothing takes it over.
void ApplyTakeover(const std::string& key, const std::vector<Contributor>& contributors,
                   const ClusterState& target, const PlanOptions& options, ServiceEntry& entry,
                   Diagnostics& diagnostics) {
  const Service* local = target.FindService(key);
  const Namespace* local_namespace = target.FindNamespace(entry.service_namespace);
  const Contributor* local_contributor = nullptr;
  std::vector<TakeoverVoice> voices;
  voices.push_back({target.name(), local ? local->takeover_label : std::nullopt,
                    local_namespace ? local_namespace->takeover_label : std::nullopt, false});
  for (const Contributor& c : contributors) {
    if (c.cluster == &target) {
      local_contributor = &c;
      voices.front().global_only = c.scope == ScopeValue::kGlobalOnly;
      continue;
    }
    const Namespace* ns = c.cluster->FindNamespace(entry.service_namespace);
    voices.push_back({c.cluster->name(), c.service->takeover_label,
                      ns ? ns->takeover_label : std::nullopt, c.scope == ScopeValue::kGlobalOnly});
  }
  const TakeoverDecision decision = DecideTakeover(voices);
  const Contributor& first = local_contributor ? *local_contributor : contributors.front();
  const ObjectRef service_ref = ServiceRef(*first.cluster, *first.service);
  if (!decision.invalid.empty()) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kInvalidTakeover, service_ref,
           std::string(kServiceTakeoverLabel) +
               " must be 'true' or 'false'; ignored: " + Unquoted(decision.invalid));
  }
  if (!decision.takeover) return;
  entry.takeover = true;
  const std::string cluster_local_name =
      entry.service_name + "." + entry.service_namespace + ".svc." + options.cluster_domain;
  if (!local) {
    entry.cluster_local_host = cluster_local_name;
    return;
  }
  if (!local_contributor) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kTakeoverNotHonoured,
           {target.name(), "Service", local->namespace_name, local->name},
           "takeover (decided by " + decision.decided_by +
               ") is not applied here: this cluster's " + "Service is not global, so " +
               cluster_local_name + " keeps its own endpoints");
    return;
  }
  if (!options.can_join_kubernetes_service) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kTakeoverNotHonoured, service_ref,
           "takeover (decided by " + decision.decided_by + ") is not applied here: the inline " +
               "object shape cannot add endpoints to " + cluster_local_name +
               "; use the workload-entries shape");
    return;
  }
  if (local->selector.empty()) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kTakeoverNotHonoured, service_ref,
           "takeover (decided by " + decision.decided_by + ") is not applied here: the Service " +
               "has no selector, so istiod cannot add the other clusters' endpoints to " +
               cluster_local_name);
    return;
  }
  entry.takeover_selector = local->selector;
  entry.takeover_local_cluster = target.name();
  for (const ServicePort& port : local->ports) {
    if (!port.target_port_name.empty()) {
      entry.takeover_named_ports.emplace_back(port.target_port_name, port.port);
    }
  }
  std::sort(entry.takeover_named_ports.begin(), entry.takeover_named_ports.end());
}

// The clusters of one segment that export a service, as the target sees
// them.
struct SegmentGroup {
  SegmentMembership membership;
  bool local = false;  // the target's own segment
  std::vector<Contributor> contributors;
};

// Splits the exporting clusters by segment: the target's own segment first
// (every exported scope), then each other segment by name (scope "segment"
// stays inside its segment). A refused cluster contributes nothing.
std::vector<SegmentGroup> GroupBySegment(const std::vector<Contributor>& contributors,
                                         const ClusterState& target, const PlanOptions& options,
                                         Diagnostics& diagnostics) {
  std::vector<SegmentGroup> groups;
  groups.push_back(
      {MembershipOf(target, target, options.control_plane_namespace, options.host_suffix),
       true,
       {}});
  std::map<std::string, std::size_t> index;  // other segment -> position in groups
  for (const Contributor& c : contributors) {
    SegmentMembership membership =
        MembershipOf(*c.cluster, target, options.control_plane_namespace, options.host_suffix);
    if (membership.refused) {
      Report(diagnostics, Severity::kWarning, DiagnosticCode::kSegmentRefused,
             ServiceRef(*c.cluster, *c.service),
             "cluster '" + c.cluster->name() + "' is refused: " + membership.reason +
                 "; its endpoints are not planned (apply that Segment here, as in its cluster)");
      continue;
    }
    if (c.scope == ScopeValue::kSegment && membership.name.empty()) {
      Report(diagnostics, Severity::kInfo, DiagnosticCode::kSegmentScopeWithoutSegment,
             ServiceRef(*c.cluster, *c.service),
             std::string(kScopeLabel) + "=segment in cluster '" + c.cluster->name() +
                 "', which is in no segment: the service is shared with the other clusters of "
                 "the default segment");
    }
    if (membership.name == groups.front().membership.name) {
      groups.front().contributors.push_back(c);
      continue;
    }
    if (c.scope == ScopeValue::kSegment) continue;  // not for other segments
    auto [it, added] = index.emplace(membership.name, 0);
    if (added) {
      it->second = groups.size();
      groups.push_back({std::move(membership), false, {}});
    }
    groups[it->second].contributors.push_back(c);
  }
  std::sort(groups.begin() + 1, groups.end(), [](const SegmentGroup& a, const SegmentGroup& b) {
    return a.membership.name < b.membership.name;
  });
  return groups;
}

// The alias hosts every contributor's Service expands to in the group's
// segment, skipped ones reported once each.
std::set<std::string> ExpandAliases(const SegmentGroup& group, const PlanOptions& options,
                                    Diagnostics* diagnostics) {
  std::set<std::string> hosts;
  if (!group.membership.segment) return hosts;
  for (const SegmentAlias& alias : group.membership.segment->aliases) {
    for (const Contributor& c : group.contributors) {
      if (!AliasSelects(alias, *c.service)) continue;
      AliasExpansion expansion = ExpandAlias(alias.pattern, *c.service, options.cluster_domain);
      if (!expansion.host.empty()) {
        hosts.insert(std::move(expansion.host));
      } else if (diagnostics) {
        Report(*diagnostics, Severity::kInfo, DiagnosticCode::kAliasSkipped,
               ServiceRef(*c.cluster, *c.service),
               "alias of segment '" + group.membership.name + "' skipped: " + expansion.skipped);
      }
    }
  }
  return hosts;
}

// For each of `hosts`, whether a service of a smaller key in the same
// segment claims it too: that service keeps the alias (a deterministic
// winner), this one drops it with a diagnostic.
void DropCollidingAliases(const std::string& key, const SegmentGroup& group,
                          const std::vector<const ClusterState*>& clusters,
                          const ClusterState& target, const PlanOptions& options,
                          std::set<std::string>& hosts, const ObjectRef& reported_on,
                          Diagnostics& diagnostics) {
  if (hosts.empty()) return;
  std::map<std::string, SegmentGroup> others;  // smaller key -> its contributors here
  for (const ClusterState* cluster : clusters) {
    const SegmentMembership membership =
        MembershipOf(*cluster, target, options.control_plane_namespace, options.host_suffix);
    if (membership.refused || membership.name != group.membership.name) continue;
    for (const auto& [other_key, service] : cluster->services()) {
      if (other_key >= key || service.dormant) continue;
      const Namespace* ns = cluster->FindNamespace(service.namespace_name);
      const ScopeDecision scope =
          DecideScope(service.scope_label, ns ? ns->scope_label : std::nullopt);
      if (!scope.exported || (!group.local && scope.value == ScopeValue::kSegment)) continue;
      auto [it, added] = others.try_emplace(other_key);
      if (added) it->second.membership = group.membership;
      it->second.contributors.push_back({cluster, &service, scope.value});
    }
  }
  for (const auto& [other_key, other] : others) {
    for (const std::string& host : ExpandAliases(other, options, nullptr)) {
      if (hosts.erase(host) == 0) continue;
      Report(diagnostics, Severity::kWarning, DiagnosticCode::kAliasCollision, reported_on,
             "alias " + host + " is also the alias of " + other_key +
                 ", which keeps it (the first by namespace/name)");
    }
  }
}

// An alias under the default domain or a segment's domain could be another
// service's default host: such names are left to default hosts.
void DropAliasesUnderDomains(const SegmentGroup& group, const ClusterState& target,
                             const PlanOptions& options, std::set<std::string>& aliases,
                             Diagnostics& diagnostics) {
  if (aliases.empty()) return;
  std::set<std::string> domains = {options.host_suffix};
  for (const auto& [name, segment] : target.segments())
    domains.insert(segment.domain);
  for (auto it = aliases.begin(); it != aliases.end();) {
    const std::string& alias = *it;
    const bool under = std::any_of(domains.begin(), domains.end(), [&](const std::string& d) {
      return alias == d || (alias.size() > d.size() && alias.ends_with("." + d));
    });
    if (!under) {
      ++it;
      continue;
    }
    Report(diagnostics, Severity::kInfo, DiagnosticCode::kAliasSkipped,
           ServiceRef(*group.contributors.front().cluster, *group.contributors.front().service),
           "alias " + alias + " of segment '" + group.membership.name +
               "' skipped: it is under a segment's host domain, whose names are the services' "
               "own hosts");
    it = aliases.erase(it);
  }
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

bool EndpointLess(const ServiceEntryEndpoint& a, const ServiceEntryEndpoint& b) {
  return std::tie(a.cluster, a.address, a.network, a.locality, a.weight) <
         std::tie(b.cluster, b.address, b.network, b.locality, b.weight);
}

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
