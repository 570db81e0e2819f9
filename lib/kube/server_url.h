#pragma once

// The `server` field of a kubeconfig: https://host[:port][/path-prefix].

#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace globalsvc::kube {

struct ServerUrl {
  std::string host;  // without brackets for IPv6 literals
  int port = 443;
  std::string path_prefix;  // "" or "/prefix" without a trailing '/'
};

// Only https is accepted: credentials never travel in clear text.
[[nodiscard]] Result<ServerUrl> ParseServerUrl(std::string_view url);

}  // namespace globalsvc::kube
