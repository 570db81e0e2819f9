// The YAML emitter of yaml_json.h: block style as kubectl prints it.

#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include "lib/base/utf8.h"
#include "lib/base/yaml_json.h"
#include "lib/base/yaml_scalar.h"

namespace globalsvc {
namespace {

using yaml_scalar::IsYaml11Keyword;
using yaml_scalar::LooksLikeNumberOrDate;

// Dotted quads (and IPv6 text) read back as strings in YAML 1.2; kubectl
// prints them plain, so do we.
bool IsIpLike(std::string_view s) {
  return yaml_scalar::IsDottedQuad(s);
}

// Characters a YAML reader does not keep as they are: a byte-order mark is
// dropped and NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR are line breaks.
// Each with the escape that keeps it inside a double-quoted scalar.
constexpr std::pair<std::string_view, std::string_view> kYamlSpecialCharacters[] = {
    {"\xEF\xBB\xBF", "\\ufeff"},
    {"\xC2\x85", "\\u0085"},
    {"\xE2\x80\xA8", "\\u2028"},
    {"\xE2\x80\xA9", "\\u2029"},
};

bool HasYamlSpecialCharacter(std::string_view s) {
  for (const auto& [raw, escaped] : kYamlSpecialCharacters) {
    if (s.find(raw) != std::string_view::npos) return true;
  }
  return false;
}

void AppendQuoted(std::string& out, std::string_view s) {
  // Bytes that are not UTF-8 (only in values built by hand: parsed text is
  // checked) become U+FFFD rather than an exception.
  std::string quoted =
      nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Escaped after the dump: these byte sequences only ever encode themselves.
  for (const auto& [raw, escaped] : kYamlSpecialCharacters) {
    for (auto at = quoted.find(raw); at != std::string::npos; at = quoted.find(raw, at)) {
      quoted.replace(at, raw.size(), escaped);
      at += escaped.size();
    }
  }
  out += quoted;
}

void AppendScalar(std::string& out, const nlohmann::json& value) {
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (IsPlainYamlSafe(s)) {
      out += s;
    } else {
      AppendQuoted(out, s);
    }
  } else if (value.is_null()) {
    out += "null";
  } else {
    out += value.dump();
  }
}

bool IsEmptyContainer(const nlohmann::json& value) {
  return (value.is_object() || value.is_array()) && value.empty();
}

void EmitNode(std::string& out, const nlohmann::json& value, int indent);

// YAML limits an implicit key to 1024 characters; a longer one needs the
// explicit "? key" form (bytes are counted: never fewer than characters).
constexpr std::size_t kImplicitKeyLimit = 1024;

void EmitKeyValue(std::string& out, const std::string& key, const nlohmann::json& value,
                  int indent) {
  std::string rendered;
  AppendScalar(rendered, key);
  const bool explicit_key = rendered.size() > kImplicitKeyLimit;
  if (explicit_key) {
    out += "? ";
    out += rendered;
    out += '\n';
    out.append(static_cast<std::size_t>(indent), ' ');
  } else {
    out += rendered;
  }
  out += ':';
  if (value.is_object() && !value.empty()) {
    out += '\n';
    EmitNode(out, value, indent + 2);
  } else if (value.is_array() && !value.empty()) {
    out += '\n';
    EmitNode(out, value, explicit_key ? indent + 2 : indent);
  } else {
    out += ' ';
    if (IsEmptyContainer(value)) {
      out += value.is_object() ? "{}" : "[]";
    } else {
      AppendScalar(out, value);
    }
    out += '\n';
  }
}

void EmitNode(std::string& out, const nlohmann::json& value, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      out += pad;
      EmitKeyValue(out, key, item, indent);
    }
  } else if (value.is_array()) {
    for (const auto& item : value) {
      out += pad;
      out += "- ";
      if (item.is_object() && !item.empty()) {
        // First key shares the dash's line; the rest align under it.
        bool first = true;
        for (const auto& [key, field] : item.items()) {
          if (!first) out += std::string(static_cast<std::size_t>(indent + 2), ' ');
          first = false;
          EmitKeyValue(out, key, field, indent + 2);
        }
      } else if (item.is_array() && !item.empty()) {
        out += '\n';
        EmitNode(out, item, indent + 2);
      } else {
        if (IsEmptyContainer(item)) {
          out += item.is_object() ? "{}" : "[]";
        } else {
          AppendScalar(out, item);
        }
        out += '\n';
      }
    }
  } else {
    out += pad;
    AppendScalar(out, value);
    out += '\n';
  }
}

}  // namespace

bool IsPlainYamlSafe(std::string_view s) {
  if (s.empty()) return false;
  if (std::isspace(static_cast<unsigned char>(s.front())) ||
      std::isspace(static_cast<unsigned char>(s.back()))) {
    return false;
  }
  static constexpr std::string_view kLeadingIndicators = "-?:,[]{}#&*!|>'\"%@`";
  if (kLeadingIndicators.find(s.front()) != std::string_view::npos) {
    // "-" followed by a non-space is fine in YAML, but keep it simple and safe
    // except for the common negative-looking identifiers which we quote anyway.
    return false;
  }
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return false;
  }
  if (!IsValidUtf8(s) || HasYamlSpecialCharacter(s)) return false;
  if (s.find(':') != std::string_view::npos || s.find(" #") != std::string_view::npos) {
    return false;
  }
  if (s.find_first_of(",[]{}") != std::string_view::npos) return false;
  if (IsYaml11Keyword(s)) return false;
  if (IsIpLike(s)) return true;
  if (LooksLikeNumberOrDate(s)) return false;
  return true;
}

std::string EmitYaml(const nlohmann::json& value) {
  std::string out;
  if (IsEmptyContainer(value)) return value.is_object() ? "{}\n" : "[]\n";
  EmitNode(out, value, 0);
  return out;
}

}  // namespace globalsvc
