#include "controller/namespace_filter.h"

#include <algorithm>

#include "lib/base/utf8.h"

namespace globalsvc::controller {
namespace {

// A namespace name is a DNS-1123 label.
bool IsNamespaceName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '-'; });
}

std::string_view Trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && space(text.back()))
    text.remove_suffix(1);
  return text;
}

Status ParseList(std::string_view text, std::string_view what,
                 std::set<std::string, std::less<>>& into) {
  while (!Trim(text).empty()) {
    const auto comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    if (!item.empty() && !IsNamespaceName(item)) {
      return MakeError(ErrorCode::kInvalidInput,
                       std::string(what) + ": '" + ShortUtf8(item, 80) +
                           "' is not a namespace name (lower-case letters, digits and '-', at "
                           "most 63)");
    }
    if (!item.empty()) into.emplace(item);  // "a,,b" and a trailing comma are fine
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return Ok{};
}

std::string Join(const std::set<std::string, std::less<>>& names) {
  std::string joined;
  for (const auto& name : names)
    joined += (joined.empty() ? "" : ",") + name;
  return joined;
}

}  // namespace

Result<NamespaceFilter> NamespaceFilter::Parse(std::string_view only, std::string_view except) {
  NamespaceFilter filter;
  if (auto status = ParseList(only, "only", filter.only_); !status.ok()) return status.error();
  if (auto status = ParseList(except, "except", filter.except_); !status.ok()) {
    return status.error();
  }
  return filter;
}

bool NamespaceFilter::Admits(std::string_view namespace_name) const {
  if (except_.find(namespace_name) != except_.end()) return false;
  return only_.empty() || only_.find(namespace_name) != only_.end();
}

std::string NamespaceFilter::Describe() const {
  std::string text = only_.empty() ? "all" : "only " + Join(only_);
  if (!except_.empty()) text += " except " + Join(except_);
  return text;
}

}  // namespace globalsvc::controller
