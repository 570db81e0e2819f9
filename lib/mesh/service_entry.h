#pragma once

// The planner's output: one generated Istio ServiceEntry, and its exact JSON
// form (networking.istio.io/v1) as the API server stores it.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace globalsvc::mesh {

struct ServiceEntryPort {
  std::string name;
  std::int32_t number = 0;
  std::string protocol;
  std::int32_t target_port = 0;  // 0: omitted

  friend bool operator==(const ServiceEntryPort&, const ServiceEntryPort&) = default;
};

struct ServiceEntryEndpoint {
  std::string address;  // empty for an aggregated east-west gateway endpoint
  std::string network;
  std::string locality;                                     // region[/zone[/subzone]]
  std::uint32_t weight = 0;                                 // 0: omitted (Istio's default weight)
  std::string cluster;                                      // label topology.istio.io/cluster
  std::vector<std::pair<std::string, std::int32_t>> ports;  // port name -> target, sorted
  // The pod's service account (in the Service's namespace); empty for a
  // gateway endpoint or a pod whose Pod is unknown. Not part of the inline
  // shape's JSON.
  std::string service_account{};

  friend bool operator==(const ServiceEntryEndpoint&, const ServiceEntryEndpoint&) = default;
};

struct ServiceEntry {
  std::string name;            // autogen.[<segment>.]<namespace>.<service>
  std::string namespace_name;  // the control-plane namespace
  std::string service_namespace;
  std::string service_name;
  std::string host;  // <service>.<namespace>.<segment domain>
  // The segment whose clusters' endpoints it holds (segments.h); empty: the
  // default segment.
  std::string segment{};
  // Further hosts from the segment's hostname aliases (aliases.h), sorted.
  std::vector<std::string> alias_hosts{};
  std::string traffic_distribution;             // as written (WrittenTrafficDistribution)
  std::string requested_traffic_distribution;   // what the Service asked for
  std::vector<ServiceEntryPort> ports;          // sorted by number
  std::vector<ServiceEntryEndpoint> endpoints;  // sorted, see planner.h
  // The service accounts of every exported endpoint, in any cluster (behind
  // a gateway too), sorted: the identities clients must accept.
  std::vector<std::string> service_accounts;
  // The service account of each exporting cluster's waypoint for the service,
  // "<namespace>/<name>", sorted: a waypoint terminates the connections, so
  // clients must accept its identity too.
  std::vector<std::string> waypoint_accounts;
  // The local Service's istio.io/use-waypoint(-namespace) labels, carried to
  // the WorkloadEntry shape's ServiceEntry so the global host goes through
  // the waypoint the Service itself uses ("none" included). A Namespace's
  // label reaches that ServiceEntry by itself. Empty: not set.
  std::string use_waypoint;
  std::string use_waypoint_namespace;
  // The Service's namespace exists in the target cluster: the WorkloadEntry
  // shape places the objects there, else in the control-plane namespace.
  bool namespace_exists_locally = true;
  // Takeover (solo.io/service-takeover) is on: the objects say so in a label.
  bool takeover = false;
  // <svc>.<ns>.svc.<cluster domain>, a second host, when takeover is on and
  // the target cluster has no Service of that name to own the name.
  std::string cluster_local_host;
  // Takeover of a global Service the target cluster has: its selector. The
  // WorkloadEntry shape gives it to the other clusters' WorkloadEntries so
  // that istiod adds them to the Kubernetes Service itself. Empty: not set.
  std::vector<std::pair<std::string, std::string>> takeover_selector;
  // With takeover_selector: the target cluster (whose own endpoints the
  // Service already has), and the Service's named targetPorts with the port
  // number each belongs to (istiod skips a port whose named targetPort a
  // WorkloadEntry does not list).
  std::string takeover_local_cluster;
  std::vector<std::pair<std::string, std::int32_t>> takeover_named_ports;

  friend bool operator==(const ServiceEntry&, const ServiceEntry&) = default;
};

// The order of ServiceEntry endpoints: cluster, address, network, locality,
// weight.
[[nodiscard]] bool EndpointLess(const ServiceEntryEndpoint& a, const ServiceEntryEndpoint& b);

// Sets both traffic distribution fields from the value a Service asked for.
void SetTrafficDistribution(ServiceEntry& entry, std::string_view requested);

// The value a Service asked for: the requested one when recorded, else the
// written one.
[[nodiscard]] const std::string& RequestedTrafficDistribution(const ServiceEntry& entry);

[[nodiscard]] std::string ServiceEntryName(std::string_view service_namespace,
                                           std::string_view service_name);

[[nodiscard]] nlohmann::json ToJson(const ServiceEntry& entry);

// On the objects of a segment other than the default one: its name.
inline constexpr const char* kSegmentObjectLabel = "globalsvc.io/segment";

// spec.hosts: the global host, the cluster-local one under takeover, then
// the aliases.
[[nodiscard]] nlohmann::json HostsJson(const ServiceEntry& entry);

// The inverse of ToJson for an object as the API server returns it (fields
// other writers add are ignored); nullopt when it is not a ServiceEntry
// globalsvc could have written (no name, host or port list).
[[nodiscard]] std::optional<ServiceEntry> ServiceEntryFromJson(const nlohmann::json& object);

// Stable hash of the fields globalsvc owns (apiVersion, kind, name,
// namespace, its labels and annotation, spec hosts/location/resolution/ports/
// endpoints); equal objects have equal hashes on any machine.
[[nodiscard]] std::string ContentHash(const ServiceEntry& entry);

// The same hash of an object as the API server returns it: fields other
// writers add (other labels, status, spec.exportTo, ...) do not count, so a
// desired entry and its stored copy compare equal exactly when a write would
// change nothing globalsvc owns.
[[nodiscard]] std::string ContentHash(const nlohmann::json& stored);

}  // namespace globalsvc::mesh
