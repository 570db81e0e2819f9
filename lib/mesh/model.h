#pragma once

// The planner's input: the few fields of each Kubernetes object that the
// domain rules need (a projection, not whole objects). The controller's caches
// hold exactly these records.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace globalsvc::mesh {

// Where istiod and its gateways live unless --namespace says otherwise.
inline constexpr const char* kDefaultControlPlaneNamespace = "istio-system";

inline constexpr const char* kScopeLabel = "solo.io/service-scope";
// "true" or "false" on a Service or Namespace: whether the cluster-local name
// <svc>.<ns>.svc.<cluster domain> is routed to the global service too.
inline constexpr const char* kServiceTakeoverLabel = "solo.io/service-takeover";
// On the control-plane namespace: the segment (Segment resource) the
// cluster belongs to; absent, "default" or unknown: the default segment.
inline constexpr const char* kSegmentLabel = "admin.solo.io/segment";
inline constexpr const char* kDefaultSegmentName = "default";
inline constexpr const char* kTrafficDistributionAnnotation =
    "networking.istio.io/traffic-distribution";
// On a generated ServiceEntry: the traffic distribution the Service asked
// for (globalsvc may write another one, which upstream istiod understands).
inline constexpr const char* kRequestedTrafficDistributionAnnotation =
    "globalsvc.solo.io/requested-traffic-distribution";
inline constexpr const char* kNetworkLabel = "topology.istio.io/network";
// The waypoint a Service (or every Service of a Namespace) sends through, and
// the namespace that waypoint lives in when it is not the Service's own.
inline constexpr const char* kUseWaypointLabel = "istio.io/use-waypoint";
inline constexpr const char* kUseWaypointNamespaceLabel = "istio.io/use-waypoint-namespace";
inline constexpr const char* kRegionLabel = "topology.kubernetes.io/region";
inline constexpr const char* kZoneLabel = "topology.kubernetes.io/zone";
inline constexpr const char* kSubzoneLabel = "topology.istio.io/subzone";
inline constexpr const char* kClusterLabel = "topology.istio.io/cluster";
inline constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "globalsvc";
inline constexpr const char* kParentServiceLabel = "solo.io/parent-service";
inline constexpr const char* kParentServiceNamespaceLabel = "solo.io/parent-service-namespace";

struct ServicePort {
  std::string name;
  std::int32_t port = 0;
  std::string protocol = "TCP";  // TCP, UDP or SCTP
  std::string app_protocol;
  std::int32_t target_port = 0;    // numeric targetPort; 0 when named or absent
  std::string target_port_name{};  // a named targetPort (a container port's name)

  friend bool operator==(const ServicePort&, const ServicePort&) = default;
};

struct Service {
  std::string namespace_name;
  std::string name;
  std::optional<std::string> scope_label;
  std::optional<std::string> takeover_label{};  // solo.io/service-takeover
  std::optional<std::string> traffic_distribution_annotation;
  std::string traffic_distribution_spec;                // spec.trafficDistribution
  std::optional<std::string> waypoint_label;            // istio.io/use-waypoint
  std::optional<std::string> waypoint_namespace_label;  // istio.io/use-waypoint-namespace
  std::vector<ServicePort> ports;
  // spec.selector, sorted by key: the labels a taken-over Service's remote
  // WorkloadEntries carry so that the Service itself selects them.
  std::vector<std::pair<std::string, std::string>> selector{};
  std::int64_t creation_timestamp = 0;  // seconds since the epoch
  // The labels and annotations hostname aliases may name (segments.h):
  // sorted, only values of at most 63 characters, at most 64 of each.
  std::vector<std::pair<std::string, std::string>> labels{};
  std::vector<std::pair<std::string, std::string>> annotations{};
  // Kept as a name only: the controller knew it was not exported, so it
  // dropped everything planning needs. A dormant record never contributes;
  // whoever made it dormant reads it again when it may be exported.
  bool dormant = false;

  friend bool operator==(const Service&, const Service&) = default;
};

struct Namespace {
  std::string name;
  std::optional<std::string> scope_label;
  std::string network_label;  // topology.istio.io/network
  // networking.istio.io/traffic-distribution: its Services' value when they
  // set none themselves, as upstream istiod reads it for Services.
  std::optional<std::string> traffic_distribution_annotation;
  // The waypoint of the Services that name none themselves.
  std::optional<std::string> waypoint_label;
  std::optional<std::string> waypoint_namespace_label;
  std::optional<std::string> takeover_label{};  // solo.io/service-takeover
  std::optional<std::string> segment_label{};   // admin.solo.io/segment

  friend bool operator==(const Namespace&, const Namespace&) = default;
};

struct EndpointConditions {
  std::optional<bool> ready;
  std::optional<bool> serving;
  std::optional<bool> terminating;

  friend bool operator==(const EndpointConditions&, const EndpointConditions&) = default;
};

struct Endpoint {
  std::string address;  // the first address; Kubernetes defines no meaning for others
  EndpointConditions conditions;
  std::string node_name;
  std::string zone;
  std::string pod_name;  // targetRef of kind Pod; empty for other targets

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct EndpointPort {
  std::string name;
  std::int32_t port = 0;
  std::string protocol = "TCP";

  friend bool operator==(const EndpointPort&, const EndpointPort&) = default;
};

enum class AddressType { kIPv4, kIPv6, kFQDN };

struct EndpointSlice {
  std::string namespace_name;
  std::string name;
  std::string service_name;  // label kubernetes.io/service-name
  AddressType address_type = AddressType::kIPv4;
  std::vector<EndpointPort> ports;
  std::vector<Endpoint> endpoints;
  bool dormant = false;  // as Service::dormant: ports and endpoints dropped

  friend bool operator==(const EndpointSlice&, const EndpointSlice&) = default;
};

struct Node {
  std::string name;
  std::string region;
  std::string zone;
  std::string subzone;

  friend bool operator==(const Node&, const Node&) = default;
};

// The one field of a Pod the planner needs: its identity. EndpointSlices
// name their pods but not their service accounts.
struct Pod {
  std::string namespace_name;
  std::string name;
  std::string service_account;  // "default" when the Pod names none

  friend bool operator==(const Pod&, const Pod&) = default;
};

// An east-west gateway Deployment in the control-plane namespace.
struct Gateway {
  std::string name;
  std::string network;
  std::string region;
  std::string zone;
  std::string subzone;

  friend bool operator==(const Gateway&, const Gateway&) = default;
};

// Where other networks reach an east-west gateway: its Service (the one of
// the gateway's name carrying the network label), load-balancer address
// first, else an external IP.
struct GatewayAddress {
  std::string name;
  std::string address;

  friend bool operator==(const GatewayAddress&, const GatewayAddress&) = default;
};

// A hostname alias of a segment: an RFC 6570-style template over
// {service}, {namespace}, {labels['k']} and {annotations['k']}, for the
// Services whose labels match match_labels (sorted; empty: every Service).
struct SegmentAlias {
  std::string pattern;
  std::vector<std::pair<std::string, std::string>> match_labels;

  friend bool operator==(const SegmentAlias&, const SegmentAlias&) = default;
};

// A Segment resource in the control-plane namespace: a group of clusters
// whose global services share one host domain.
struct Segment {
  std::string name;
  std::string domain;
  std::vector<SegmentAlias> aliases;

  friend bool operator==(const Segment&, const Segment&) = default;
};

}  // namespace globalsvc::mesh
