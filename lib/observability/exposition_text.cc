#include "lib/observability/exposition_text.h"

#include <charconv>
#include <cmath>

namespace globalsvc::obs {

namespace {

// [a-zA-Z_] then [a-zA-Z0-9_]*, with ':' among the letters for metric names.
bool IsName(std::string_view name, bool colon_allowed) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

// Backslash and newline always; the double quote only inside label values.
void AppendEscaped(std::string& out, std::string_view text, bool escape_quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (escape_quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

bool IsMetricName(std::string_view name) {
  return IsName(name, true);
}

bool IsLabelName(std::string_view name) {
  return !name.starts_with("__") && IsName(name, false);
}

void AppendEscapedHelp(std::string& out, std::string_view text) {
  AppendEscaped(out, text, false);
}

void AppendEscapedLabelValue(std::string& out, std::string_view text) {
  AppendEscaped(out, text, true);
}

void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name,
                  std::string_view extra_value) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    AppendEscapedLabelValue(out, values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    AppendEscapedLabelValue(out, extra_value);
    out += '"';
  }
  out += '}';
}

void AppendSample(std::string& out, std::string_view name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view value) {
  out += name;
  AppendLabels(out, names, values);
  out += ' ';
  out += value;
  out += '\n';
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Go's strconv.FormatFloat(v, 'g', -1, 64), which Prometheus clients use:
  // the shortest digits that read back as v, in exponent form when the
  // decimal exponent is < -4 or >= 6, else in fixed form.
  char buffer[64];
  auto sci = std::to_chars(buffer, buffer + sizeof(buffer), v, std::chars_format::scientific);
  if (sci.ec != std::errc()) return "NaN";
  const std::string_view text(buffer, static_cast<std::size_t>(sci.ptr - buffer));
  const auto e = text.find('e');
  int exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view digits = text.substr(e + 1);
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    std::from_chars(digits.data(), digits.data() + digits.size(), exponent);
  }
  if (exponent < -4 || exponent >= 6) return std::string(text);
  auto fixed = std::to_chars(buffer, buffer + sizeof(buffer), v, std::chars_format::fixed);
  if (fixed.ec != std::errc()) return std::string(text);
  return std::string(buffer, fixed.ptr);
}

}  // namespace globalsvc::obs
