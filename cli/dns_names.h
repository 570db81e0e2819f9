#pragma once

// The Kubernetes name rules remote-secret checks its flags and objects against,
// so a bad name is a usage error here rather than an API server refusal later.

#include <string>

namespace globalsvc::cli {

// Namespaces and cluster names: lowercase alphanumerics and '-', at most 63,
// starting and ending with an alphanumeric.
[[nodiscard]] bool IsDnsLabel(const std::string& text);

// Names of RBAC objects and ServiceAccounts: as a label, '.' allowed too, at most 253.
[[nodiscard]] bool IsDnsSubdomain(const std::string& text);

}  // namespace globalsvc::cli
