#pragma once

// How YAML reads a plain (unquoted) scalar, as Kubernetes does (YAML 1.2
// core schema), and which strings a YAML 1.1 reader would take for another
// type: what the reader (yaml_json.cc) and the emitter (yaml_emit.cc) agree
// on.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace globalsvc::yaml_scalar {

// null, a boolean, an integer, a float, or else the string itself.
[[nodiscard]] nlohmann::json ResolvePlainScalar(const std::string& text);

// Text a YAML reader may take for a number or a date: after an optional
// sign, a digit or '.' and a digit, or .inf/.nan in any of YAML's spellings.
// (Hex, octal and dates start with a digit.)
[[nodiscard]] bool LooksLikeNumberOrDate(std::string_view text);

// y/n, yes/no, on/off, true/false and null in YAML 1.1's spellings.
[[nodiscard]] bool IsYaml11Keyword(std::string_view text);

// A dotted quad: four groups of one to three digits.
[[nodiscard]] bool IsDottedQuad(std::string_view text);

}  // namespace globalsvc::yaml_scalar
