#pragma once

// Decodes Kubernetes objects (JSON as the API server sends them, or as
// `kubectl get -o yaml` prints them) into the planner's lean model. Bad fields
// give diagnostics; a field that cannot be read is dropped, never guessed, and
// an object without a name is rejected whole.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "lib/mesh/diagnostic.h"
#include "lib/mesh/model.h"

namespace globalsvc::mesh {

struct DecodeContext {
  std::string cluster;  // names the cluster in diagnostics
  Diagnostics* diagnostics = nullptr;
};

[[nodiscard]] std::optional<Service> DecodeService(const nlohmann::json& object,
                                                   const DecodeContext& context);
[[nodiscard]] std::optional<Namespace> DecodeNamespace(const nlohmann::json& object,
                                                       const DecodeContext& context);
[[nodiscard]] std::optional<EndpointSlice> DecodeEndpointSlice(const nlohmann::json& object,
                                                               const DecodeContext& context);
[[nodiscard]] std::optional<Node> DecodeNode(const nlohmann::json& object,
                                             const DecodeContext& context);
// A Deployment carrying topology.istio.io/network (on the Deployment or its
// pod template); nullopt for any other Deployment.
[[nodiscard]] std::optional<Gateway> DecodeGateway(const nlohmann::json& object,
                                                   const DecodeContext& context);

// A Segment resource; nullopt (with a diagnostic) when its domain cannot be
// used. An alias that cannot expand is dropped, the others kept.
[[nodiscard]] std::optional<Segment> DecodeSegment(const nlohmann::json& object,
                                                   const DecodeContext& context);

// A Pod's service account ("default" when it names none).
[[nodiscard]] std::optional<Pod> DecodePod(const nlohmann::json& object,
                                           const DecodeContext& context);
// The address of an east-west gateway from its Service: a Service carrying
// topology.istio.io/network with a load-balancer address or an external IP;
// nullopt for any other Service.
[[nodiscard]] std::optional<GatewayAddress> DecodeGatewayAddress(const nlohmann::json& object,
                                                                 const DecodeContext& context);

}  // namespace globalsvc::mesh
