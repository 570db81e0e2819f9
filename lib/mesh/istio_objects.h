#pragma once

// The objects upstream istiod turns into a global service's view (settled
// with istiod, see README.md "The objects upstream istiod needs"): a planned
// ServiceEntry rendered as a ServiceEntry that selects WorkloadEntries by a
// label of our own, one WorkloadEntry per endpoint, and one peer Gateway of
// class istio-remote per remote network. Pure: same input, same bytes.

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "lib/mesh/cluster_state.h"
#include "lib/mesh/diagnostic.h"
#include "lib/mesh/model.h"
#include "lib/mesh/service_entry.h"

namespace globalsvc::mesh {

// Selects a global service's WorkloadEntries. Not the Service's selector:
// with istiod's default PILOT_ENABLE_K8S_SELECT_WORKLOAD_ENTRIES the
// Kubernetes Service would select them too and go global unasked.
inline constexpr const char* kGlobalServiceLabel = "globalsvc.solo.io/global-service";
// On a WorkloadEntry that joins a taken-over Kubernetes Service: the keys of
// the Service's selector labels it carries (comma-separated), which are ours
// to keep.
inline constexpr const char* kTakeoverLabelsAnnotation = "globalsvc.io/takeover-labels";
// On such a WorkloadEntry: the port names it lists only as the Service's
// named targetPorts (comma-separated). A name can also be a port of the
// global service, and reading the objects back must not take it for one.
inline constexpr const char* kTakeoverPortsAnnotation = "globalsvc.io/takeover-ports";
// The names of a comma-separated annotation value (the two above).
[[nodiscard]] std::vector<std::string> AnnotationList(std::string_view value);

inline constexpr const char* kRemotePeerGatewayClass = "istio-remote";
// HBONE port of an east-west gateway (what istiod resolves a network's
// gateway from).
inline constexpr int kHboneGatewayPort = 15008;

struct ShapeOptions {
  std::string control_plane_namespace = kDefaultControlPlaneNamespace;
  std::string trust_domain = "cluster.local";
};

struct ServiceObjects {
  nlohmann::json service_entry;
  std::vector<nlohmann::json> workload_entries;  // sorted by name
};

// The namespace of a service's objects: the Service's own, so istiod gives
// the workloads that namespace's identity; the control-plane namespace when
// the namespace does not exist in the target cluster (a remote-only service).
[[nodiscard]] std::string ObjectsNamespace(const ServiceEntry& entry, const ShapeOptions& options);

// The kGlobalServiceLabel value: the Service's name in its own namespace,
// "<namespace>.<name>" in the control-plane namespace (shared by services
// of every namespace); a hashed short form past 63 characters.
[[nodiscard]] std::string GlobalServiceLabelValue(const ServiceEntry& entry,
                                                  const ShapeOptions& options);

// The name of the WorkloadEntry of one endpoint: the ServiceEntry's name and
// a hash of the endpoint's identity (cluster, address, network, locality),
// so it is stable while the endpoint is.
[[nodiscard]] std::string WorkloadEntryName(const ServiceEntry& entry,
                                            const ServiceEntryEndpoint& endpoint);

[[nodiscard]] ServiceObjects RenderServiceObjects(const ServiceEntry& entry,
                                                  const ShapeOptions& options);

// Stable hash of the fields globalsvc owns in a ServiceEntry, WorkloadEntry
// or Gateway of this shape (kind, name, namespace, our labels and
// annotations, the spec fields we write), desired or as the API server
// returns it: fields others add (status, other labels, spec.exportTo) do not
// count, so equal hashes mean a write would change nothing of ours.
[[nodiscard]] std::string OwnedContentHash(const nlohmann::json& object);

}  // namespace globalsvc::mesh
