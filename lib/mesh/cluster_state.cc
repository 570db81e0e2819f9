#include "lib/mesh/cluster_state.h"

#include <algorithm>

namespace globalsvc::mesh {

std::string ServiceKey(std::string_view namespace_name, std::string_view name) {
  std::string key;
  key.reserve(namespace_name.size() + 1 + name.size());
  key.append(namespace_name).append("/").append(name);
  return key;
}

void MakeDormant(Service& service) {
  service.traffic_distribution_annotation.reset();
  std::string().swap(service.traffic_distribution_spec);
  std::vector<ServicePort>().swap(service.ports);
  std::vector<std::pair<std::string, std::string>>().swap(service.selector);
  std::vector<std::pair<std::string, std::string>>().swap(service.labels);
  std::vector<std::pair<std::string, std::string>>().swap(service.annotations);
  service.dormant = true;
}

void MakeDormant(EndpointSlice& slice) {
  std::vector<EndpointPort>().swap(slice.ports);
  std::vector<Endpoint>().swap(slice.endpoints);
  slice.dormant = true;
}

void ClusterState::UpsertService(Service service) {
  std::string key = ServiceKey(service.namespace_name, service.name);
  services_.insert_or_assign(std::move(key), std::move(service));
}

void ClusterState::RemoveService(std::string_view namespace_name, std::string_view name) {
  services_.erase(ServiceKey(namespace_name, name));
}

void ClusterState::UpsertNamespace(Namespace ns) {
  std::string key = ns.name;
  namespaces_.insert_or_assign(std::move(key), std::move(ns));
}

void ClusterState::RemoveNamespace(std::string_view name) {
  namespaces_.erase(std::string(name));
}

void ClusterState::UpsertEndpointSlice(EndpointSlice slice) {
  auto& slices = slices_by_service_[ServiceKey(slice.namespace_name, slice.service_name)];
  std::string name = slice.name;
  if (slices.insert_or_assign(std::move(name), std::move(slice)).second) ++slice_count_;
}

void ClusterState::RemoveEndpointSlice(std::string_view namespace_name,
                                       std::string_view service_name, std::string_view slice_name) {
  auto it = slices_by_service_.find(ServiceKey(namespace_name, service_name));
  if (it == slices_by_service_.end()) return;
  slice_count_ -= it->second.erase(std::string(slice_name));
  if (it->second.empty()) slices_by_service_.erase(it);
}

void ClusterState::MakeSlicesDormant(const std::string& service_key) {
  auto it = slices_by_service_.find(service_key);
  if (it == slices_by_service_.end()) return;
  for (auto& [name, slice] : it->second)
    MakeDormant(slice);
}

bool ClusterState::HasDormantSlices(const std::string& service_key) const {
  const auto* slices = FindSlices(service_key);
  if (slices == nullptr) return false;
  return std::any_of(slices->begin(), slices->end(),
                     [](const auto& entry) { return entry.second.dormant; });
}

void ClusterState::CountZone(const Node& node, int delta) {
  if (node.zone.empty() || node.region.empty()) return;
  auto& regions = zone_regions_[node.zone];
  if ((regions[node.region] += delta) <= 0) regions.erase(node.region);
  if (regions.empty()) zone_regions_.erase(node.zone);
}

void ClusterState::UpsertNode(Node node) {
  if (auto it = nodes_.find(node.name); it != nodes_.end()) CountZone(it->second, -1);
  CountZone(node, +1);
  std::string name = node.name;
  nodes_.insert_or_assign(std::move(name), std::move(node));
}

void ClusterState::RemoveNode(std::string_view name) {
  auto it = nodes_.find(std::string(name));
  if (it == nodes_.end()) return;
  CountZone(it->second, -1);
  nodes_.erase(it);
}

void ClusterState::UpsertGateway(Gateway gateway) {
  std::string name = gateway.name;
  gateways_.insert_or_assign(std::move(name), std::move(gateway));
}

void ClusterState::RemoveGateway(std::string_view name) {
  gateways_.erase(std::string(name));
}

void ClusterState::UpsertGatewayAddress(GatewayAddress address) {
  gateway_addresses_.insert_or_assign(std::move(address.name), std::move(address.address));
}

void ClusterState::RemoveGatewayAddress(std::string_view name) {
  gateway_addresses_.erase(std::string(name));
}

void ClusterState::UpsertPod(Pod pod) {
  std::string key = ServiceKey(pod.namespace_name, pod.name);
  pods_.insert_or_assign(std::move(key), std::move(pod));
}

void ClusterState::RemovePod(std::string_view namespace_name, std::string_view name) {
  pods_.erase(ServiceKey(namespace_name, name));
}

std::string ClusterState::ServiceAccountOf(const std::string& namespace_name,
                                           const std::string& pod_name) const {
  auto it = pods_.find(ServiceKey(namespace_name, pod_name));
  return it == pods_.end() ? std::string() : it->second.service_account;
}

std::string ClusterState::AddressOfGateway(const std::string& name) const {
  auto it = gateway_addresses_.find(name);
  return it == gateway_addresses_.end() ? std::string() : it->second;
}

const Service* ClusterState::FindService(const std::string& key) const {
  auto it = services_.find(key);
  return it == services_.end() ? nullptr : &it->second;
}

const Namespace* ClusterState::FindNamespace(const std::string& name) const {
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : &it->second;
}

const Node* ClusterState::FindNode(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

const std::map<std::string, EndpointSlice>* ClusterState::FindSlices(const std::string& key) const {
  auto it = slices_by_service_.find(key);
  return it == slices_by_service_.end() ? nullptr : &it->second;
}

std::string ClusterState::RegionOfZone(const std::string& zone) const {
  auto it = zone_regions_.find(zone);
  if (it == zone_regions_.end()) return {};
  // Most nodes win; ties go to the first region by name (deterministic).
  const std::string* best = nullptr;
  int best_count = 0;
  for (const auto& [region, count] : it->second) {
    if (count > best_count) {
      best = &region;
      best_count = count;
    }
  }
  return best ? *best : std::string();
}

std::size_t ClusterState::endpoint_slice_count() const {
  return slice_count_;
}

std::size_t ClusterState::object_count() const {
  return services_.size() + namespaces_.size() + nodes_.size() + gateways_.size() +
         gateway_addresses_.size() + pods_.size() + segments_.size() + slice_count_;
}

void ClusterState::UpsertSegment(Segment segment) {
  std::string name = segment.name;
  segments_.insert_or_assign(std::move(name), std::move(segment));
}

void ClusterState::RemoveSegment(std::string_view name) {
  segments_.erase(std::string(name));
}

const Segment* ClusterState::FindSegment(const std::string& name) const {
  auto it = segments_.find(name);
  return it == segments_.end() ? nullptr : &it->second;
}

}  // namespace globalsvc::mesh
