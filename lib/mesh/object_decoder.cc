#include "lib/mesh/object_decoder.h"

#include <algorithm>

#include "lib/base/rfc3339.h"
#include "lib/mesh/aliases.h"
#include "lib/mesh/object_reader.h"
#include "lib/mesh/segments.h"

namespace globalsvc::mesh {
namespace {

using nlohmann::json;

// spec.selector as sorted pairs. A selector past kMaxSelectorLabels (the API
// server allows far fewer in practice) or with a non-string value is dropped
// whole: a partial selector would select more than the Service does.
constexpr std::size_t kMaxSelectorLabels = 64;

std::vector<std::pair<std::string, std::string>> Selector(const ObjectReader& reader,
                                                          const json& spec) {
  const json* selector = SetFieldOf(spec, "selector");
  if (!selector || selector->is_null()) return {};
  if (!selector->is_object()) {
    reader.Problem(Severity::kWarning, "spec.selector is not a map; ignored");
    return {};
  }
  if (selector->size() > kMaxSelectorLabels) {
    reader.Problem(Severity::kWarning, "spec.selector has more than " +
                                           std::to_string(kMaxSelectorLabels) + " labels; ignored");
    return {};
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [key, value] : selector->items()) {
    if (!value.is_string()) {
      reader.Problem(Severity::kWarning, "spec.selector[" + key + "] is not a string; ignored");
      return {};
    }
    pairs.emplace_back(key, value.get<std::string>());
  }
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

// What hostname aliases may name of metadata.labels or .annotations: string
// values of at most a DNS label's length (an alias part longer could not be
// a host anyway), at most kMaxAliasFields of them, sorted. Bounds what a
// Service costs however large its annotations are.
constexpr std::size_t kMaxAliasFields = 64;
constexpr std::size_t kMaxAliasFieldValue = 63;
constexpr std::size_t kMaxAliasFieldKey = 317;  // prefix (253) + '/' + name (63)

std::vector<std::pair<std::string, std::string>> AliasFields(const ObjectReader& reader,
                                                             const char* map) {
  std::vector<std::pair<std::string, std::string>> pairs;
  const json* metadata = reader.metadata();
  const json* entries = metadata ? SetFieldOf(*metadata, map) : nullptr;
  if (!entries || !entries->is_object()) return pairs;
  for (const auto& [key, value] : entries->items()) {
    if (pairs.size() == kMaxAliasFields) break;
    if (!value.is_string() || key.size() > kMaxAliasFieldKey) continue;
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() > kMaxAliasFieldValue) continue;
    pairs.emplace_back(key, text);
  }
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

// metadata.creationTimestamp in whole seconds; nullopt (reported when set
// but unreadable) otherwise.
std::optional<std::int64_t> CreationSeconds(ObjectReader& reader) {
  const json* metadata = reader.metadata();
  if (!metadata) return std::nullopt;
  std::string created = reader.String(*metadata, "creationTimestamp", "metadata.creationTimestamp");
  if (created.empty()) return std::nullopt;
  auto seconds = ParseRfc3339Seconds(created);
  if (!seconds) {
    reader.Problem(Severity::kWarning,
                   "metadata.creationTimestamp '" + created + "' is not RFC 3339; ignored");
  }
  return seconds;
}

std::optional<ServicePort> DecodeServicePort(ObjectReader& reader, const json& item,
                                             std::size_t index) {
  const std::string path = "spec.ports[" + std::to_string(index) + "]";
  if (!item.is_object()) {
    reader.Problem(Severity::kWarning, path + " is not an object; ignored");
    return std::nullopt;
  }
  ServicePort port;
  auto number = PortNumber(reader, item, "port", path + ".port");
  if (!number) {
    if (!SetFieldOf(item, "port"))
      reader.Problem(Severity::kWarning, path + " has no port; ignored");
    return std::nullopt;
  }
  port.port = *number;
  port.name = reader.String(item, "name", (path + ".name").c_str());
  port.protocol = Protocol(reader, item, path);
  port.app_protocol = reader.String(item, "appProtocol", (path + ".appProtocol").c_str());
  if (const json* target = SetFieldOf(item, "targetPort")) {
    if (target->is_number_integer()) {
      const auto value = target->get<std::int64_t>();
      if (value >= 1 && value <= 65535) port.target_port = static_cast<std::int32_t>(value);
    } else if (target->is_string()) {
      port.target_port_name = reader.String(item, "targetPort", (path + ".targetPort").c_str());
    }
  }
  return port;
}

}  // namespace

std::optional<Service> DecodeService(const json& object, const DecodeContext& context) {
  ObjectReader reader(object, "Service", context);
  if (!reader.NamedInNamespace()) return std::nullopt;
  Service service;
  service.name = reader.ref().name;
  service.namespace_name = reader.ref().namespace_name;
  service.scope_label = reader.MetadataEntry("labels", kScopeLabel);
  service.takeover_label = reader.MetadataEntry("labels", kServiceTakeoverLabel);
  service.traffic_distribution_annotation =
      reader.MetadataEntry("annotations", kTrafficDistributionAnnotation);
  service.waypoint_label = reader.MetadataEntry("labels", kUseWaypointLabel);
  service.waypoint_namespace_label = reader.MetadataEntry("labels", kUseWaypointNamespaceLabel);
  service.labels = AliasFields(reader, "labels");
  service.annotations = AliasFields(reader, "annotations");
  if (auto seconds = CreationSeconds(reader)) service.creation_timestamp = *seconds;
  const json* spec = SetFieldOf(object, "spec");
  if (!spec) return service;
  service.traffic_distribution_spec =
      reader.String(*spec, "trafficDistribution", "spec.trafficDistribution");
  service.selector = Selector(reader, *spec);
  const json* ports = Array(reader, *spec, "ports", "spec.ports");
  if (!ports) return service;
  for (std::size_t i = 0; i < ports->size(); ++i) {
    if (auto port = DecodeServicePort(reader, (*ports)[i], i)) {
      service.ports.push_back(std::move(*port));
    }
  }
  return service;
}

std::optional<Namespace> DecodeNamespace(const json& object, const DecodeContext& context) {
  ObjectReader reader(object, "Namespace", context);
  if (!reader.Named()) return std::nullopt;
  Namespace ns;
  ns.name = reader.ref().name;
  ns.scope_label = reader.MetadataEntry("labels", kScopeLabel);
  ns.takeover_label = reader.MetadataEntry("labels", kServiceTakeoverLabel);
  ns.network_label = reader.MetadataEntry("labels", kNetworkLabel).value_or("");
  ns.segment_label = reader.MetadataEntry("labels", kSegmentLabel);
  ns.traffic_distribution_annotation =
      reader.MetadataEntry("annotations", kTrafficDistributionAnnotation);
  ns.waypoint_label = reader.MetadataEntry("labels", kUseWaypointLabel);
  ns.waypoint_namespace_label = reader.MetadataEntry("labels", kUseWaypointNamespaceLabel);
  return ns;
}

namespace {

// Segment resources hold a few aliases; more are refused whole.
constexpr std::size_t kMaxSegmentAliases = 32;

std::optional<SegmentAlias> DecodeAlias(const ObjectReader& reader, const json& item,
                                        const std::string& path) {
  if (!item.is_object()) {
    reader.Problem(Severity::kWarning, path + " is not an object; ignored");
    return std::nullopt;
  }
  SegmentAlias alias;
  alias.pattern = reader.String(item, "pattern", (path + ".pattern").c_str());
  if (std::string problem = AliasPatternProblem(alias.pattern); !problem.empty()) {
    reader.Problem(Severity::kWarning, path + ".pattern: " + problem + "; ignored");
    return std::nullopt;
  }
  const json* selector = SetFieldOf(item, "selector");
  const json* match = selector ? SetFieldOf(*selector, "matchLabels") : nullptr;
  if (match) {
    if (!match->is_object() || match->size() > kMaxSelectorLabels) {
      reader.Problem(Severity::kWarning, path + ".selector.matchLabels is not a map of at most " +
                                             std::to_string(kMaxSelectorLabels) +
                                             " labels; the alias is ignored");
      return std::nullopt;
    }
    for (const auto& [key, value] : match->items()) {
      if (!value.is_string()) {
        reader.Problem(Severity::kWarning, path + ".selector.matchLabels[" + key +
                                               "] is not a string; the alias is ignored");
        return std::nullopt;
      }
      alias.match_labels.emplace_back(key, value.get<std::string>());
    }
    std::sort(alias.match_labels.begin(), alias.match_labels.end());
  }
  return alias;
}

}  // namespace

std::optional<Segment> DecodeSegment(const json& object, const DecodeContext& context) {
  ObjectReader reader(object, "Segment", context);
  if (!reader.Named()) return std::nullopt;
  Segment segment;
  segment.name = reader.ref().name;
  const json* spec = SetFieldOf(object, "spec");
  if (spec) segment.domain = reader.String(*spec, "domain", "spec.domain");
  if (std::string problem = SegmentDomainProblem(segment.domain); !problem.empty()) {
    reader.Problem(Severity::kWarning,
                   "spec.domain '" + segment.domain + "': " + problem + "; the Segment is ignored");
    return std::nullopt;
  }
  const json* aliases = spec ? Array(reader, *spec, "aliases", "spec.aliases") : nullptr;
  if (!aliases) return segment;
  if (aliases->size() > kMaxSegmentAliases) {
    reader.Problem(Severity::kWarning, "spec.aliases has more than " +
                                           std::to_string(kMaxSegmentAliases) +
                                           " entries; the aliases are ignored");
    return segment;
  }
  for (std::size_t i = 0; i < aliases->size(); ++i) {
    if (auto alias = DecodeAlias(reader, (*aliases)[i], "spec.aliases[" + std::to_string(i) + "]"))
      segment.aliases.push_back(std::move(*alias));
  }
  return segment;
}

namespace {

// One endpoint of a slice: its first address, conditions, node, zone and pod.
std::optional<Endpoint> DecodeSliceEndpoint(ObjectReader& reader, const json& item,
                                            std::size_t index) {
  const std::string path = "endpoints[" + std::to_string(index) + "]";
  if (!item.is_object()) return std::nullopt;
  const json* addresses = Array(reader, item, "addresses", path + ".addresses");
  if (!addresses || addresses->empty() || !(*addresses)[0].is_string()) {
    reader.Problem(Severity::kWarning, path + " has no address; ignored");
    return std::nullopt;
  }
  Endpoint endpoint;
  endpoint.address = (*addresses)[0].get<std::string>();
  if (const json* conditions = SetFieldOf(item, "conditions")) {
    endpoint.conditions.ready = reader.Bool(*conditions, "ready", path + ".conditions.ready");
    endpoint.conditions.serving = reader.Bool(*conditions, "serving", path + ".conditions.serving");
    endpoint.conditions.terminating =
        reader.Bool(*conditions, "terminating", path + ".conditions.terminating");
  }
  endpoint.node_name = reader.String(item, "nodeName", (path + ".nodeName").c_str());
  endpoint.zone = reader.String(item, "zone", (path + ".zone").c_str());
  if (const json* target = SetFieldOf(item, "targetRef"); target && target->is_object()) {
    if (reader.String(*target, "kind", (path + ".targetRef.kind").c_str()) == "Pod") {
      endpoint.pod_name = reader.String(*target, "name", (path + ".targetRef.name").c_str());
    }
  }
  return endpoint;
}

}  // namespace

std::optional<EndpointSlice> DecodeEndpointSlice(const json& object, const DecodeContext& context) {
  ObjectReader reader(object, "EndpointSlice", context);
  if (!reader.NamedInNamespace()) return std::nullopt;
  EndpointSlice slice;
  slice.name = reader.ref().name;
  slice.namespace_name = reader.ref().namespace_name;
  slice.service_name = reader.MetadataEntry("labels", kServiceNameLabel).value_or("");
  if (slice.service_name.empty()) return std::nullopt;  // not managed for a Service

  const std::string type = reader.String(object, "addressType", "addressType");
  if (type == "IPv4") {
    slice.address_type = AddressType::kIPv4;
  } else if (type == "IPv6") {
    slice.address_type = AddressType::kIPv6;
  } else if (type == "FQDN") {
    slice.address_type = AddressType::kFQDN;
  } else {
    reader.Problem(Severity::kWarning, "addressType '" + type + "' is not IPv4, IPv6 or FQDN");
    return std::nullopt;
  }

  if (const json* ports = Array(reader, object, "ports", "ports")) {
    for (std::size_t i = 0; i < ports->size(); ++i) {
      const json& item = (*ports)[i];
      const std::string path = "ports[" + std::to_string(i) + "]";
      if (!item.is_object()) continue;
      EndpointPort port;
      auto number = PortNumber(reader, item, "port", path + ".port");
      if (!number) continue;
      port.port = *number;
      port.name = reader.String(item, "name", (path + ".name").c_str());
      port.protocol = Protocol(reader, item, path);
      slice.ports.push_back(std::move(port));
    }
  }

  if (const json* endpoints = Array(reader, object, "endpoints", "endpoints")) {
    slice.endpoints.reserve(endpoints->size());
    for (std::size_t i = 0; i < endpoints->size(); ++i) {
      if (auto endpoint = DecodeSliceEndpoint(reader, (*endpoints)[i], i)) {
        slice.endpoints.push_back(std::move(*endpoint));
      }
    }
  }
  return slice;
}

std::optional<Node> DecodeNode(const json& object, const DecodeContext& context) {
  ObjectReader reader(object, "Node", context);
  if (!reader.Named()) return std::nullopt;
  Node node;
  node.name = reader.ref().name;
  node.region = reader.MetadataEntry("labels", kRegionLabel).value_or("");
  node.zone = reader.MetadataEntry("labels", kZoneLabel).value_or("");
  node.subzone = reader.MetadataEntry("labels", kSubzoneLabel).value_or("");
  return node;
}

std::optional<Gateway> DecodeGateway(const json& object, const DecodeContext& context) {
  ObjectReader reader(object, "Deployment", context);
  if (!reader.Named()) return std::nullopt;
  // Topology labels may sit on the Deployment or on its pod template; the
  // Deployment's own labels win.
  const json* template_metadata = nullptr;
  if (const json* spec = SetFieldOf(object, "spec")) {
    if (const json* pod_template = SetFieldOf(*spec, "template")) {
      template_metadata = SetFieldOf(*pod_template, "metadata");
    }
  }
  auto label = [&](const char* key) -> std::optional<std::string> {
    if (auto value = reader.MetadataEntry("labels", key)) return value;
    if (template_metadata) {
      return reader.MapEntry(*template_metadata, "labels", key, "spec.template.metadata.labels");
    }
    return std::nullopt;
  };
  auto network = label(kNetworkLabel);
  if (!network) return std::nullopt;
  Gateway gateway;
  gateway.name = reader.ref().name;
  gateway.network = *network;
  gateway.region = label(kRegionLabel).value_or("");
  gateway.zone = label(kZoneLabel).value_or("");
  gateway.subzone = label(kSubzoneLabel).value_or("");
  return gateway;
}

std::optional<Pod> DecodePod(const json& object, const DecodeContext& context) {
  ObjectReader reader(object, "Pod", context);
  if (!reader.NamedInNamespace()) return std::nullopt;
  Pod pod;
  pod.name = reader.ref().name;
  pod.namespace_name = reader.ref().namespace_name;
  if (const json* spec = SetFieldOf(object, "spec")) {
    pod.service_account = reader.String(*spec, "serviceAccountName", "spec.serviceAccountName");
  }
  // The API server sets it; a Pod read from elsewhere may lack it.
  if (pod.service_account.empty()) pod.service_account = "default";
  return pod;
}

std::optional<GatewayAddress> DecodeGatewayAddress(const json& object,
                                                   const DecodeContext& context) {
  ObjectReader reader(object, "Service", context);
  if (reader.ref().name.empty() || !reader.MetadataEntry("labels", kNetworkLabel)) {
    return std::nullopt;
  }
  GatewayAddress out{reader.ref().name, {}};
  if (const json* status = SetFieldOf(object, "status")) {
    if (const json* balancer = SetFieldOf(*status, "loadBalancer")) {
      if (const json* ingress = Array(reader, *balancer, "ingress", "status.loadBalancer.ingress");
          ingress && !ingress->empty() && (*ingress)[0].is_object()) {
        out.address = reader.String((*ingress)[0], "ip", "status.loadBalancer.ingress[0].ip");
        if (out.address.empty()) {
          out.address =
              reader.String((*ingress)[0], "hostname", "status.loadBalancer.ingress[0].hostname");
        }
      }
    }
  }
  if (out.address.empty()) {
    if (const json* spec = SetFieldOf(object, "spec")) {
      if (const json* external = Array(reader, *spec, "externalIPs", "spec.externalIPs");
          external && !external->empty() && (*external)[0].is_string()) {
        out.address = (*external)[0].get<std::string>();
      }
    }
  }
  if (out.address.empty()) return std::nullopt;
  return out;
}

}  // namespace globalsvc::mesh
