#pragma once

// The Istio protocol of a Service port, chosen the way Istio does: appProtocol
// first, else the port name's prefix before the first '-' (case-insensitive).

#include <string>
#include <string_view>

namespace globalsvc::mesh {

// Returns "TCP" when neither appProtocol nor the name identifies a protocol.
[[nodiscard]] std::string IstioProtocol(std::string_view port_name, std::string_view app_protocol);

}  // namespace globalsvc::mesh
