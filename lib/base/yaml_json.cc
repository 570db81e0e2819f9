#include "lib/base/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <regex>
#include <string>

namespace globalsvc {
namespace {

bool IsNullScalar(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

bool ParseBoolScalar(const std::string& s, bool& out) {
  if (s == "true" || s == "True" || s == "TRUE") {
    out = true;
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    out = false;
    return true;
  }
  return false;
}

bool ParseIntScalar(const std::string& s, nlohmann::json& out) {
  static const std::regex kDecimal("[-+]?[0-9]+");
  static const std::regex kHex("0x[0-9a-fA-F]+");
  static const std::regex kOctal("0o[0-7]+");
  int base = 10;
  std::string digits = s;
  if (std::regex_match(s, kHex)) {
    base = 16;
    digits = s.substr(2);
  } else if (std::regex_match(s, kOctal)) {
    base = 8;
    digits = s.substr(2);
  } else if (!std::regex_match(s, kDecimal)) {
    return false;
  }
  if (!digits.empty() && digits.front() == '+') digits.erase(0, 1);
  if (!digits.empty() && digits.front() == '-') {
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) return false;
    out = value;
    return true;
  }
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return false;
  if (value <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<std::int64_t>(value);
  } else {
    out = value;
  }
  return true;
}

bool ParseFloatScalar(const std::string& s, nlohmann::json& out) {
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (!std::regex_match(s, kFloat)) return false;
  try {
    out = std::stod(s);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

nlohmann::json ResolvePlainScalar(const std::string& s) {
  if (IsNullScalar(s)) return nullptr;
  bool flag = false;
  if (ParseBoolScalar(s, flag)) return flag;
  nlohmann::json number;
  if (ParseIntScalar(s, number)) return number;
  if (ParseFloatScalar(s, number)) return number;
  return s;
}

nlohmann::json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& tag = node.Tag();
      const std::string& text = node.Scalar();
      if (tag == "!" || tag == "tag:yaml.org,2002:str") return text;
      return ResolvePlainScalar(text);
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& item : node)
        array.push_back(ToJson(item));
      return array;
    }
    case YAML::NodeType::Map: {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& entry : node) {
        // Kubernetes objects only use string keys; other keys are stringified.
        object[entry.first.as<std::string>()] = ToJson(entry.second);
      }
      return object;
    }
  }
  return nullptr;
}

bool LooksLikeNumberOrDate(std::string_view s) {
  static const std::regex kNumberLike(
      "[-+]?(\\.?[0-9].*|\\.(inf|Inf|INF|nan|NaN|NAN))|0[xo].*|[0-9]{4}-[0-9]{2}-[0-9]{2}.*");
  return std::regex_match(s.begin(), s.end(), kNumberLike);
}

bool IsYaml11Keyword(std::string_view s) {
  static const char* const kWords[] = {"y",     "Y",    "yes",  "Yes",  "YES",  "n",     "N",
                                       "no",    "No",   "NO",   "on",   "On",   "ON",    "off",
                                       "Off",   "OFF",  "true", "True", "TRUE", "false", "False",
                                       "FALSE", "null", "Null", "NULL", "~"};
  for (const char* word : kWords) {
    if (s == word) return true;
  }
  return false;
}

bool IsIpLike(std::string_view s) {
  // Dotted quads and IPv6 text read back as strings in YAML 1.2; kubectl
  // prints them plain, so do we.
  static const std::regex kIpv4("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
  return std::regex_match(s.begin(), s.end(), kIpv4);
}

void AppendQuoted(std::string& out, std::string_view s) {
  out += nlohmann::json(std::string(s)).dump();
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

void EmitKeyValue(std::string& out, const std::string& key, const nlohmann::json& value,
                  int indent) {
  AppendScalar(out, key);
  out += ':';
  if (value.is_object() && !value.empty()) {
    out += '\n';
    EmitNode(out, value, indent + 2);
  } else if (value.is_array() && !value.empty()) {
    out += '\n';
    EmitNode(out, value, indent);
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
  if (s.find(':') != std::string_view::npos || s.find(" #") != std::string_view::npos) {
    return false;
  }
  if (s.find_first_of(",[]{}") != std::string_view::npos) return false;
  if (IsYaml11Keyword(s)) return false;
  if (IsIpLike(s)) return true;
  if (LooksLikeNumberOrDate(s)) return false;
  return true;
}

Result<std::vector<nlohmann::json>> ParseYamlDocuments(std::string_view text) {
  try {
    std::vector<nlohmann::json> documents;
    for (const YAML::Node& node : YAML::LoadAll(std::string(text))) {
      nlohmann::json doc = ToJson(node);
      if (doc.is_null()) continue;
      documents.push_back(std::move(doc));
    }
    return documents;
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidInput,
                     "YAML error at line " + std::to_string(e.mark.line + 1) + ", column " +
                         std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kInvalidInput, std::string("YAML error: ") + e.what());
  }
}

std::string EmitYaml(const nlohmann::json& value) {
  std::string out;
  if (IsEmptyContainer(value)) return value.is_object() ? "{}\n" : "[]\n";
  EmitNode(out, value, 0);
  return out;
}

}  // namespace globalsvc
