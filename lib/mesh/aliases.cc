#include "lib/mesh/aliases.h"

#include <algorithm>
#include <optional>

#include "lib/mesh/segments.h"

namespace globalsvc::mesh {
namespace {

constexpr std::size_t kMaxHost = 253;

const std::string* Lookup(const std::vector<std::pair<std::string, std::string>>& pairs,
                          std::string_view key) {
  auto it = std::lower_bound(pairs.begin(), pairs.end(), key,
                             [](const auto& pair, std::string_view k) { return pair.first < k; });
  return it != pairs.end() && it->first == key ? &it->second : nullptr;
}

struct Variable {
  enum class Kind { kService, kNamespace, kLabel, kAnnotation } kind;
  std::string key;
};

// "service", "namespace", "labels['k']", "annotations[\"k\"]".
std::optional<Variable> ParseVariable(std::string_view text) {
  if (text == "service") return Variable{Variable::Kind::kService, {}};
  if (text == "namespace") return Variable{Variable::Kind::kNamespace, {}};
  for (auto [prefix, kind] :
       {std::pair{std::string_view("labels["), Variable::Kind::kLabel},
        std::pair{std::string_view("annotations["), Variable::Kind::kAnnotation}}) {
    if (!text.starts_with(prefix) || !text.ends_with("]")) continue;
    std::string_view quoted = text.substr(prefix.size(), text.size() - prefix.size() - 1);
    if (quoted.size() < 3) return std::nullopt;
    const char quote = quoted.front();
    if ((quote != '\'' && quote != '"') || quoted.back() != quote) return std::nullopt;
    std::string_view key = quoted.substr(1, quoted.size() - 2);
    if (key.find(quote) != std::string_view::npos) return std::nullopt;
    return Variable{kind, std::string(key)};
  }
  return std::nullopt;
}

// Walks the pattern: literal text and {variables}. `on_variable` returns
// false to stop. Returns a problem with the pattern itself, or empty.
template <typename OnLiteral, typename OnVariable>
std::string Walk(std::string_view pattern, OnLiteral on_literal, OnVariable on_variable) {
  std::size_t at = 0;
  while (at < pattern.size()) {
    const auto open = pattern.find_first_of("{}", at);
    if (open == std::string_view::npos) {
      on_literal(pattern.substr(at));
      break;
    }
    if (pattern[open] == '}') return "a '}' without its '{'";
    on_literal(pattern.substr(at, open - at));
    const auto close = pattern.find('}', open);
    if (close == std::string_view::npos) return "a '{' without its '}'";
    const std::string_view text = pattern.substr(open + 1, close - open - 1);
    auto variable = ParseVariable(text);
    if (!variable) return "unknown variable {" + std::string(text) + "}";
    if (!on_variable(*variable)) return {};
    at = close + 1;
  }
  return {};
}

}  // namespace

std::string AliasPatternProblem(std::string_view pattern) {
  if (pattern.empty()) return "the pattern is empty";
  bool has_variable = false;
  std::string problem = Walk(
      pattern, [](std::string_view) {},
      [&](const Variable&) {
        has_variable = true;
        return true;
      });
  if (problem.empty() && !has_variable) {
    problem = "the pattern names no variable, so every service would get the same alias";
  }
  return problem;
}

AliasExpansion ExpandAlias(std::string_view pattern, const Service& service,
                           std::string_view cluster_domain) {
  AliasExpansion result;
  std::string host;
  std::string missing;
  std::string problem = Walk(
      pattern, [&](std::string_view literal) { host.append(literal); },
      [&](const Variable& variable) {
        const std::string* value = nullptr;
        switch (variable.kind) {
          case Variable::Kind::kService:
            value = &service.name;
            break;
          case Variable::Kind::kNamespace:
            value = &service.namespace_name;
            break;
          case Variable::Kind::kLabel:
            value = Lookup(service.labels, variable.key);
            if (!value) missing = "label " + variable.key + " is missing";
            break;
          case Variable::Kind::kAnnotation:
            value = Lookup(service.annotations, variable.key);
            if (!value) missing = "annotation " + variable.key + " is missing";
            break;
        }
        if (!value) return false;
        host.append(*value);
        return true;
      });
  if (!problem.empty()) {
    result.skipped = "pattern '" + std::string(pattern) + "': " + problem;
  } else if (!missing.empty()) {
    result.skipped = "pattern '" + std::string(pattern) + "': " + missing;
  } else if (!IsLowercaseDnsName(host, kMaxHost)) {
    result.skipped = "pattern '" + std::string(pattern) + "' gives '" + host +
                     "', which is not a lowercase DNS name";
  } else if (const std::string suffix = "." + std::string(cluster_domain);
             host == cluster_domain || host.ends_with(suffix)) {
    result.skipped = "pattern '" + std::string(pattern) + "' gives '" + host +
                     "', a name of the Kubernetes cluster domain";
  } else {
    result.host = std::move(host);
  }
  return result;
}

bool AliasSelects(const SegmentAlias& alias, const Service& service) {
  return std::all_of(alias.match_labels.begin(), alias.match_labels.end(), [&](const auto& pair) {
    const std::string* value = Lookup(service.labels, pair.first);
    return value && *value == pair.second;
  });
}

}  // namespace globalsvc::mesh
