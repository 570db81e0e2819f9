#pragma once

// NamespaceFilter: which namespaces of a remote cluster may contribute
// Services and endpoints here. A platform team sets it on the remote's
// Secret, so a remote cannot export, say, its kube-system or a tenant's
// namespace into every cluster's hosts by labelling it global. Records of a
// namespace the filter refuses are not kept at all.

#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace globalsvc::controller {

class NamespaceFilter {
 public:
  // `only`: comma-separated namespace names, empty for every namespace;
  // `except`: comma-separated names never admitted (it wins over `only`).
  static Result<NamespaceFilter> Parse(std::string_view only, std::string_view except);

  [[nodiscard]] bool Admits(std::string_view namespace_name) const;
  [[nodiscard]] bool admits_all() const { return only_.empty() && except_.empty(); }
  // For logs: "all", "only a,b", "all except c", "only a,b except c".
  [[nodiscard]] std::string Describe() const;

  bool operator==(const NamespaceFilter& other) const = default;

 private:
  std::set<std::string, std::less<>> only_;
  std::set<std::string, std::less<>> except_;
};

}  // namespace globalsvc::controller
