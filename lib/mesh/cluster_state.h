#pragma once

// ClusterState: one cluster's lean, indexed view (the planner's input). The
// snapshot loader fills it from files; the controller keeps one per connected
// cluster up to date from its watches. Not thread-safe: the owner serialises
// access.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lib/mesh/model.h"

namespace globalsvc::mesh {

// "<namespace>/<name>": the key of a Service and of its ServiceEntry.
[[nodiscard]] std::string ServiceKey(std::string_view namespace_name, std::string_view name);

// What a dormant record keeps of a Service or EndpointSlice: its identity.
void MakeDormant(Service& service);
void MakeDormant(EndpointSlice& slice);

class ClusterState {
 public:
  ClusterState() = default;
  ClusterState(std::string name, std::string network)
      : name_(std::move(name)), network_(std::move(network)) {}

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& network() const { return network_; }
  void set_network(std::string network) { network_ = std::move(network); }

  void UpsertService(Service service);
  void RemoveService(std::string_view namespace_name, std::string_view name);
  void UpsertNamespace(Namespace ns);
  void RemoveNamespace(std::string_view name);
  void UpsertEndpointSlice(EndpointSlice slice);
  void RemoveEndpointSlice(std::string_view namespace_name, std::string_view service_name,
                           std::string_view slice_name);
  // Drops the ports and endpoints of every slice of one Service (by key).
  void MakeSlicesDormant(const std::string& service_key);
  void UpsertNode(Node node);
  void RemoveNode(std::string_view name);
  void UpsertGateway(Gateway gateway);
  void RemoveGateway(std::string_view name);
  void UpsertGatewayAddress(GatewayAddress address);
  void RemoveGatewayAddress(std::string_view name);
  // Pods are held only for their service account (see model.h).
  void UpsertPod(Pod pod);
  void RemovePod(std::string_view namespace_name, std::string_view name);
  // The cluster's Segment resources (its control-plane namespace's).
  void UpsertSegment(Segment segment);
  void RemoveSegment(std::string_view name);

  [[nodiscard]] const Service* FindService(const std::string& key) const;
  [[nodiscard]] const Namespace* FindNamespace(const std::string& name) const;
  [[nodiscard]] const Node* FindNode(const std::string& name) const;
  [[nodiscard]] const Segment* FindSegment(const std::string& name) const;
  [[nodiscard]] const std::map<std::string, Segment>& segments() const { return segments_; }
  // The service account of a Pod; empty when the Pod is unknown.
  [[nodiscard]] std::string ServiceAccountOf(const std::string& namespace_name,
                                             const std::string& pod_name) const;
  // The address of a gateway by name; empty when unknown.
  [[nodiscard]] std::string AddressOfGateway(const std::string& name) const;
  // Slices of one Service keyed by slice name (ordered, for determinism).
  [[nodiscard]] const std::map<std::string, EndpointSlice>* FindSlices(
      const std::string& key) const;
  // True when a slice of the Service (by key) is dormant: what the cluster
  // holds of it is incomplete.
  [[nodiscard]] bool HasDormantSlices(const std::string& service_key) const;
  // The region most nodes in a zone report; empty if no node is in that zone.
  [[nodiscard]] std::string RegionOfZone(const std::string& zone) const;

  [[nodiscard]] const std::unordered_map<std::string, Service>& services() const {
    return services_;
  }
  [[nodiscard]] const std::unordered_map<std::string, Namespace>& namespaces() const {
    return namespaces_;
  }
  [[nodiscard]] const std::unordered_map<std::string, Node>& nodes() const { return nodes_; }
  [[nodiscard]] const std::map<std::string, Gateway>& gateways() const { return gateways_; }
  [[nodiscard]] const std::unordered_map<std::string, std::map<std::string, EndpointSlice>>&
  endpoint_slices_by_service() const {
    return slices_by_service_;
  }
  [[nodiscard]] std::size_t endpoint_slice_count() const;
  // Records of every kind held: what a per-cluster object quota counts.
  [[nodiscard]] std::size_t object_count() const;

 private:
  void CountZone(const Node& node, int delta);

  std::string name_;
  std::string network_;
  std::unordered_map<std::string, Service> services_;
  std::unordered_map<std::string, Namespace> namespaces_;
  std::unordered_map<std::string, std::map<std::string, EndpointSlice>> slices_by_service_;
  std::size_t slice_count_ = 0;  // slices in slices_by_service_
  std::unordered_map<std::string, Node> nodes_;
  std::map<std::string, Gateway> gateways_;
  std::map<std::string, Segment> segments_;
  std::unordered_map<std::string, std::string> gateway_addresses_;  // name -> address
  std::unordered_map<std::string, Pod> pods_;                       // "<ns>/<name>" -> pod
  // zone -> region -> node count; lets an endpoint whose node is unknown still
  // get a region from its EndpointSlice zone.
  std::unordered_map<std::string, std::map<std::string, int>> zone_regions_;
};

}  // namespace globalsvc::mesh
