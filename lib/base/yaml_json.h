#pragma once

// Conversion between YAML text and nlohmann::json values, with the scalar
// typing Kubernetes uses (YAML 1.2 core schema: quoted scalars stay strings).

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace globalsvc {

// Parses every document of a (possibly multi-document) YAML stream. Empty
// documents are skipped. Errors name the line and column.
Result<std::vector<nlohmann::json>> ParseYamlDocuments(std::string_view text);

// Emits one JSON value as block-style YAML in the layout kubectl prints
// (two-space indent, sequences flush with their key). Object keys keep the
// json's order (sorted for nlohmann::json). Strings that would read back as
// another type are double-quoted.
std::string EmitYaml(const nlohmann::json& value);

// Whether a string can be written as a plain YAML scalar and read back as the
// same string.
bool IsPlainYamlSafe(std::string_view text);

}  // namespace globalsvc
