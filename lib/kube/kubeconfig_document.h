#pragma once

// The kubeconfig files of one load, merged as kubectl merges them (the first
// file to name an entry wins), and the typed reads of their fields: a field
// of the wrong type is an error that names the file and the field.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace globalsvc::kube::kubeconfig {

// One named entry (cluster, user or context) and the file that defined it:
// relative paths resolve against that file's folder.
struct NamedEntry {
  nlohmann::json body;
  std::string source;
  std::string base_dir;
};

struct MergedConfig {
  std::map<std::string, NamedEntry> clusters;
  std::map<std::string, NamedEntry> users;
  std::map<std::string, NamedEntry> contexts;
  std::string current_context;
  std::string current_context_source;
};

[[nodiscard]] Error FieldError(std::string_view source, std::string_view field,
                               std::string_view problem);

// `path` against the folder of the file that named it, unless absolute.
[[nodiscard]] std::string ResolvePath(std::string_view base_dir, const std::string& path);

[[nodiscard]] Result<std::string> ReadFile(const std::string& path);

// Reads an optional string field; a present non-string is an error.
[[nodiscard]] Result<std::string> StringField(const nlohmann::json& object, std::string_view key,
                                              std::string_view source, std::string_view field_path);
// Reads an optional boolean field; a present non-boolean is an error.
[[nodiscard]] Result<bool> BoolField(const nlohmann::json& object, std::string_view key,
                                     std::string_view source, std::string_view field_path);

// Adds one file's clusters, users and contexts (and its current-context, if
// none is set yet) to `merged`.
[[nodiscard]] Status MergeDocument(std::string_view text, std::string_view source,
                                   std::string_view base_dir, MergedConfig& merged);

}  // namespace globalsvc::kube::kubeconfig
