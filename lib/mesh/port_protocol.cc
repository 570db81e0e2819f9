#include "lib/mesh/port_protocol.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace globalsvc::mesh {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Known protocol spellings (lowercase) and the Istio protocol they select.
constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kProtocols = {{
    {"http", "HTTP"},
    {"http2", "HTTP2"},
    {"https", "HTTPS"},
    {"grpc", "GRPC"},
    {"grpc-web", "GRPC-Web"},
    {"tls", "TLS"},
    {"tcp", "TCP"},
    {"mongo", "Mongo"},
    {"mysql", "MySQL"},
    {"redis", "Redis"},
    {"h2c", "HTTP2"},
    {"kubernetes.io/h2c", "HTTP2"},
    {"kubernetes.io/ws", "HTTP"},
    {"kubernetes.io/wss", "HTTPS"},
}};

std::string_view Lookup(std::string_view lowered) {
  for (const auto& [spelling, protocol] : kProtocols) {
    if (spelling == lowered) return protocol;
  }
  return {};
}

}  // namespace

std::string IstioProtocol(std::string_view port_name, std::string_view app_protocol) {
  if (!app_protocol.empty()) {
    if (auto protocol = Lookup(Lower(app_protocol)); !protocol.empty()) {
      return std::string(protocol);
    }
  }
  const std::string name = Lower(port_name);
  if (auto protocol = Lookup(name); !protocol.empty()) return std::string(protocol);
  // "grpc-web" is itself a prefix with a dash, so try it before splitting.
  if (name.rfind("grpc-web-", 0) == 0) return "GRPC-Web";
  if (auto dash = name.find('-'); dash != std::string::npos) {
    if (auto protocol = Lookup(std::string_view(name).substr(0, dash)); !protocol.empty()) {
      return std::string(protocol);
    }
  }
  return "TCP";
}

}  // namespace globalsvc::mesh
