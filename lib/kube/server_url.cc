#include "lib/kube/server_url.h"

#include <charconv>

namespace globalsvc::kube {

Result<ServerUrl> ParseServerUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return MakeError(ErrorCode::kInvalidInput, "must start with https://");
  }
  std::string_view rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  if (path.find_first_of("?#") != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidInput, "must not have a query or fragment");
  }

  ServerUrl result;
  result.path_prefix = std::string(path);
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidInput, "has an unterminated IPv6 address");
    }
    result.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return MakeError(ErrorCode::kInvalidInput, "has a malformed port");
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    result.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (result.host.empty()) return MakeError(ErrorCode::kInvalidInput, "has no host");
  if (result.host.find('@') != std::string::npos) {
    return MakeError(ErrorCode::kInvalidInput, "must not carry user information");
  }
  if (!port_text.empty()) {
    int port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port <= 0 ||
        port > 65535) {
      return MakeError(ErrorCode::kInvalidInput, "has a malformed port");
    }
    result.port = port;
  }
  return result;
}

}  // namespace globalsvc::kube
