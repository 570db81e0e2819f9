#pragma once

// Builders for planner inputs in unit tests: a small fluent way to describe
// clusters, services, pods and gateways.

#include <ostream>
#include <string>
#include <vector>

#include "lib/mesh/cluster_state.h"
#include "lib/mesh/planner.h"

namespace globalsvc::mesh::testing {

inline Service GlobalService(const std::string& ns, const std::string& name,
                             std::vector<ServicePort> ports = {{"http", 8000, "TCP", "", 8080}},
                             std::int64_t created = 1000) {
  Service service;
  service.namespace_name = ns;
  service.name = name;
  service.scope_label = "global";
  service.ports = std::move(ports);
  service.creation_timestamp = created;
  return service;
}

inline Endpoint ReadyEndpoint(const std::string& address, const std::string& node,
                              const std::string& zone = "") {
  Endpoint endpoint;
  endpoint.address = address;
  endpoint.conditions.ready = true;
  endpoint.node_name = node;
  endpoint.zone = zone;
  return endpoint;
}

inline EndpointSlice Slice(const std::string& ns, const std::string& service,
                           const std::string& name, std::vector<Endpoint> endpoints,
                           std::vector<EndpointPort> ports = {{"http", 8080, "TCP"}},
                           AddressType type = AddressType::kIPv4) {
  EndpointSlice slice;
  slice.namespace_name = ns;
  slice.service_name = service;
  slice.name = name;
  slice.address_type = type;
  slice.ports = std::move(ports);
  slice.endpoints = std::move(endpoints);
  return slice;
}

// The guide's two clusters without any service: cluster1 (us-east-1a/b,
// cluster1-network) and cluster2 (us-west-2a/b, cluster2-network), each with
// an east-west gateway in its first zone.
struct GuideWorld {
  ClusterState cluster1{"cluster1", "cluster1-network"};
  ClusterState cluster2{"cluster2", "cluster2-network"};

  GuideWorld() {
    cluster1.UpsertNode({"node-1", "us-east-1", "us-east-1a", ""});
    cluster1.UpsertNode({"node-2", "us-east-1", "us-east-1b", ""});
    cluster2.UpsertNode({"node-1", "us-west-2", "us-west-2a", ""});
    cluster2.UpsertNode({"node-2", "us-west-2", "us-west-2b", ""});
    cluster1.UpsertGateway(
        {"istio-eastwestgateway", "cluster1-network", "us-east-1", "us-east-1a", ""});
    cluster2.UpsertGateway(
        {"istio-eastwestgateway", "cluster2-network", "us-west-2", "us-west-2a", ""});
  }

  std::vector<const ClusterState*> clusters() const { return {&cluster1, &cluster2}; }
};

inline std::optional<ServiceEntry> PlanFor(const std::vector<const ClusterState*>& clusters,
                                           const std::string& target, const std::string& ns,
                                           const std::string& name, Diagnostics& diagnostics) {
  PlanOptions options;
  options.target_cluster = target;
  return PlanService(ns, name, clusters, options, diagnostics);
}

// An entry as the inline shape's JSON holds it: without what only the
// WorkloadEntry shape writes (identities, where the objects go).
inline ServiceEntry InlineFields(ServiceEntry entry) {
  entry.service_accounts.clear();
  entry.waypoint_accounts.clear();
  entry.use_waypoint.clear();
  entry.use_waypoint_namespace.clear();
  entry.namespace_exists_locally = true;
  entry.takeover_selector.clear();
  entry.takeover_local_cluster.clear();
  entry.takeover_named_ports.clear();
  for (auto& endpoint : entry.endpoints)
    endpoint.service_account.clear();
  return entry;
}

inline bool HasDiagnostic(const Diagnostics& diagnostics, DiagnosticCode code) {
  for (const auto& d : diagnostics) {
    if (d.code == code) return true;
  }
  return false;
}

}  // namespace globalsvc::mesh::testing

// Readable failure messages.
namespace globalsvc::mesh {
inline std::ostream& operator<<(std::ostream& out, const ServiceEntryEndpoint& e) {
  out << "{address=" << e.address << " network=" << e.network << " locality=" << e.locality
      << " weight=" << e.weight << " cluster=" << e.cluster << " ports=[";
  for (const auto& [name, number] : e.ports)
    out << name << ":" << number << " ";
  return out << "]}";
}
inline std::ostream& operator<<(std::ostream& out, const ServiceEntryPort& p) {
  return out << "{" << p.name << " " << p.number << " " << p.protocol << " " << p.target_port
             << "}";
}
}  // namespace globalsvc::mesh
