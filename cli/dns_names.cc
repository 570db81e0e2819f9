#include "cli/dns_names.h"

#include <cstddef>
#include <string_view>

namespace globalsvc::cli {
namespace {

// Lowercase alphanumerics and `extra`, starting and ending with an
// alphanumeric (plain loops: no std::regex, which recurses per character).
bool IsDnsName(const std::string& text, std::size_t max_size, std::string_view extra) {
  const auto alphanumeric = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (text.empty() || text.size() > max_size) return false;
  if (!alphanumeric(text.front()) || !alphanumeric(text.back())) return false;
  for (const char c : text) {
    if (!alphanumeric(c) && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace

bool IsDnsLabel(const std::string& text) {
  return IsDnsName(text, 63, "-");
}

bool IsDnsSubdomain(const std::string& text) {
  return IsDnsName(text, 253, "-.");
}

}  // namespace globalsvc::cli
