#pragma once

// Generated EndpointSlices shaped like the ones kube-controller-manager writes
// (labels, owner reference, managed fields, per-endpoint conditions, node
// name, zone and target reference), shared by the lib/kube benchmarks.

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

namespace globalsvc::bench {

// The fields kube-controller-manager owns in one endpoint.
inline nlohmann::json ManagedEndpointFields() {
  using nlohmann::json;
  return {{".", json::object()},
          {"f:addresses", json::object()},
          {"f:conditions",
           {{".", json::object()},
            {"f:ready", json::object()},
            {"f:serving", json::object()},
            {"f:terminating", json::object()}}},
          {"f:nodeName", json::object()},
          {"f:targetRef", json::object()},
          {"f:zone", json::object()}};
}

// metadata.managedFields of a slice, given its endpoints' entries.
inline nlohmann::json ManagedFields(nlohmann::json managed_endpoints) {
  using nlohmann::json;
  return json::array({{{"manager", "kube-controller-manager"},
                       {"operation", "Update"},
                       {"apiVersion", "discovery.k8s.io/v1"},
                       {"time", "2026-01-01T00:00:00Z"},
                       {"fieldsType", "FieldsV1"},
                       {"fieldsV1",
                        {{"f:addressType", json::object()},
                         {"f:endpoints", std::move(managed_endpoints)},
                         {"f:metadata",
                          {{"f:annotations", json::object()},
                           {"f:generateName", json::object()},
                           {"f:labels", json::object()},
                           {"f:ownerReferences", json::object()}}},
                         {"f:ports", json::object()}}}}});
}

inline nlohmann::json EndpointSlice(int index, int endpoints) {
  using nlohmann::json;
  const std::string service = "service-" + std::to_string(index / 3);
  const std::string name = service + "-" + std::to_string(10000 + index);
  json slice = {{"kind", "EndpointSlice"},
                {"apiVersion", "discovery.k8s.io/v1"},
                {"metadata",
                 {{"name", name},
                  {"generateName", service + "-"},
                  {"namespace", "namespace-" + std::to_string(index % 10)},
                  {"uid", "6f1c2a8e-3b4d-4e5f-9a0b-" + std::to_string(100000000000 + index)},
                  {"resourceVersion", std::to_string(1000000 + index)},
                  {"generation", 3},
                  {"creationTimestamp", "2026-01-01T00:00:00Z"},
                  {"labels",
                   {{"endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io"},
                    {"kubernetes.io/service-name", service},
                    {"app", service}}},
                  {"annotations",
                   {{"endpoints.kubernetes.io/last-change-trigger-time", "2026-01-01T00:00:00Z"}}},
                  {"ownerReferences", json::array({{{"apiVersion", "v1"},
                                                    {"kind", "Service"},
                                                    {"name", service},
                                                    {"uid", "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"},
                                                    {"controller", true},
                                                    {"blockOwnerDeletion", true}}})}}},
                {"addressType", "IPv4"},
                {"ports", json::array({{{"name", "http"}, {"protocol", "TCP"}, {"port", 8080}},
                                       {{"name", "grpc"}, {"protocol", "TCP"}, {"port", 9090}}})}};
  json items = json::array();
  json managed_endpoints = json::object();
  for (int e = 0; e < endpoints; ++e) {
    const std::string ip =
        "10.244." + std::to_string((index + e) % 250) + "." + std::to_string(e % 250 + 1);
    const std::string zone = e % 2 == 0 ? "us-east-1a" : "us-east-1b";
    items.push_back({{"addresses", {ip}},
                     {"conditions", {{"ready", true}, {"serving", true}, {"terminating", false}}},
                     {"nodeName", "cluster1-" + zone + "-node-" + std::to_string(e % 4)},
                     {"zone", zone},
                     {"targetRef",
                      {{"kind", "Pod"},
                       {"namespace", "namespace-" + std::to_string(index % 10)},
                       {"name", service + "-7d9f8c6b5-" + std::to_string(10000 + e)},
                       {"uid", "1f2e3d4c-5b6a-7980-a1b2-" + std::to_string(200000000000 + e)}}}});
    managed_endpoints["k:{\"addresses\":[\"" + ip + "\"]}"] = ManagedEndpointFields();
  }
  slice["endpoints"] = items;
  slice["metadata"]["managedFields"] = ManagedFields(std::move(managed_endpoints));
  return slice;
}

}  // namespace globalsvc::bench
