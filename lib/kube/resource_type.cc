#include "lib/kube/resource_type.h"

namespace globalsvc::kube {

std::string ResourceType::GroupVersionPath() const {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

std::string ResourceType::ApiVersion() const {
  return group.empty() ? version : group + "/" + version;
}

std::string ResourceType::CollectionPath(std::string_view namespace_name) const {
  std::string path = GroupVersionPath();
  if (namespaced && !namespace_name.empty()) {
    path += "/namespaces/";
    path += namespace_name;
  }
  path += "/";
  path += plural;
  return path;
}

std::string ResourceType::ObjectPath(std::string_view namespace_name, std::string_view name,
                                     std::string_view subresource) const {
  std::string path = CollectionPath(namespace_name);
  path += "/";
  path += name;
  if (!subresource.empty()) {
    path += "/";
    path += subresource;
  }
  return path;
}

namespace resources {
const ResourceType& Services() {
  static const ResourceType type{"", "v1", "services", true};
  return type;
}
const ResourceType& Namespaces() {
  static const ResourceType type{"", "v1", "namespaces", false};
  return type;
}
const ResourceType& EndpointSlices() {
  static const ResourceType type{"discovery.k8s.io", "v1", "endpointslices", true};
  return type;
}
const ResourceType& Nodes() {
  static const ResourceType type{"", "v1", "nodes", false};
  return type;
}
const ResourceType& Deployments() {
  static const ResourceType type{"apps", "v1", "deployments", true};
  return type;
}
const ResourceType& Secrets() {
  static const ResourceType type{"", "v1", "secrets", true};
  return type;
}
const ResourceType& ServiceAccounts() {
  static const ResourceType type{"", "v1", "serviceaccounts", true};
  return type;
}
const ResourceType& ConfigMaps() {
  static const ResourceType type{"", "v1", "configmaps", true};
  return type;
}
const ResourceType& Events() {
  static const ResourceType type{"events.k8s.io", "v1", "events", true};
  return type;
}
const ResourceType& Leases() {
  static const ResourceType type{"coordination.k8s.io", "v1", "leases", true};
  return type;
}
const ResourceType& ServiceEntries() {
  static const ResourceType type{"networking.istio.io", "v1", "serviceentries", true};
  return type;
}
const ResourceType& WorkloadEntries() {
  static const ResourceType type{"networking.istio.io", "v1", "workloadentries", true};
  return type;
}
const ResourceType& Gateways() {
  static const ResourceType type{"gateway.networking.k8s.io", "v1", "gateways", true};
  return type;
}
const ResourceType& Pods() {
  static const ResourceType type{"", "v1", "pods", true};
  return type;
}
}  // namespace resources

std::string EscapeQueryValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '_' || u == '.' || u == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

}  // namespace globalsvc::kube
