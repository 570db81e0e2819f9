#pragma once

// Which API resource a request is about, and the URL paths for it.

#include <string>
#include <string_view>

namespace globalsvc::kube {

struct ResourceType {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "endpointslices"
  bool namespaced = true;

  // "/api/v1" or "/apis/<group>/<version>".
  [[nodiscard]] std::string GroupVersionPath() const;
  // "v1" or "<group>/<version>", as in an object's apiVersion.
  [[nodiscard]] std::string ApiVersion() const;
  // The collection: all namespaces when `namespace_name` is empty.
  [[nodiscard]] std::string CollectionPath(std::string_view namespace_name) const;
  // One object, optionally a subresource ("status").
  [[nodiscard]] std::string ObjectPath(std::string_view namespace_name, std::string_view name,
                                       std::string_view subresource = {}) const;
};

// The resources globalsvc reads and writes.
namespace resources {
const ResourceType& Services();
const ResourceType& Namespaces();
const ResourceType& EndpointSlices();
const ResourceType& Nodes();
const ResourceType& Deployments();
const ResourceType& Secrets();
const ResourceType& ServiceAccounts();
const ResourceType& ConfigMaps();
const ResourceType& Events();
const ResourceType& Leases();
const ResourceType& ServiceEntries();
const ResourceType& WorkloadEntries();
const ResourceType& Gateways();  // gateway.networking.k8s.io
const ResourceType& Pods();
}  // namespace resources

// Percent-encodes a query parameter value.
[[nodiscard]] std::string EscapeQueryValue(std::string_view value);

}  // namespace globalsvc::kube
