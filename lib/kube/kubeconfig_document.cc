#include "lib/kube/kubeconfig_document.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/base/yaml_json.h"

namespace globalsvc::kube::kubeconfig {

using nlohmann::json;

Error FieldError(std::string_view source, std::string_view field, std::string_view problem) {
  return MakeError(ErrorCode::kInvalidInput,
                   std::string(source) + ": " + std::string(field) + ": " + std::string(problem));
}

std::string ResolvePath(std::string_view base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kInvalidInput, "cannot read file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<std::string> StringField(const json& object, std::string_view key, std::string_view source,
                                std::string_view field_path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return FieldError(source, std::string(field_path) + "." + std::string(key), "must be a string");
  }
  return it->get<std::string>();
}

Result<bool> BoolField(const json& object, std::string_view key, std::string_view source,
                       std::string_view field_path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    return FieldError(source, std::string(field_path) + "." + std::string(key),
                      "must be true or false");
  }
  return it->get<bool>();
}
namespace {

Status MergeNamedList(const json& doc, std::string_view list_key, std::string_view body_key,
                      std::string_view source, std::string_view base_dir,
                      std::map<std::string, NamedEntry>& into) {
  const auto it = doc.find(list_key);
  if (it == doc.end() || it->is_null()) return Ok{};
  if (!it->is_array()) return FieldError(source, list_key, "must be a list");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& entry = (*it)[i];
    const std::string where = std::string(list_key) + "[" + std::to_string(i) + "]";
    if (!entry.is_object()) return FieldError(source, where, "must be a mapping");
    const auto name = entry.find("name");
    if (name == entry.end() || !name->is_string() || name->get<std::string>().empty()) {
      return FieldError(source, where + ".name", "missing or not a string");
    }
    const auto body = entry.find(body_key);
    if (body == entry.end() || !body->is_object()) {
      return FieldError(source, where + "." + std::string(body_key), "missing or not a mapping");
    }
    // The first file to define a name wins, as with kubectl.
    into.try_emplace(name->get<std::string>(),
                     NamedEntry{*body, std::string(source), std::string(base_dir)});
  }
  return Ok{};
}

}  // namespace

Status MergeDocument(std::string_view text, std::string_view source, std::string_view base_dir,
                     MergedConfig& merged) {
  auto docs = ParseYamlDocuments(text);
  if (!docs.ok()) {
    return MakeError(ErrorCode::kInvalidInput,
                     std::string(source) + ": not valid YAML: " + docs.error().message);
  }
  if (docs->empty()) return Ok{};  // an empty file contributes nothing, as with kubectl
  if (docs->size() != 1) return FieldError(source, "document", "must be a single YAML document");
  const json& doc = docs->front();
  if (!doc.is_object()) return FieldError(source, "document", "must be a mapping");
  if (auto kind = doc.find("kind"); kind != doc.end() && *kind != "Config") {
    return FieldError(source, "kind", "must be Config");
  }
  for (const auto& [list, body] : {std::pair{"clusters", "cluster"}, std::pair{"users", "user"},
                                   std::pair{"contexts", "context"}}) {
    auto& target = std::string_view(list) == "clusters" ? merged.clusters
                   : std::string_view(list) == "users"  ? merged.users
                                                        : merged.contexts;
    if (auto status = MergeNamedList(doc, list, body, source, base_dir, target); !status.ok()) {
      return status.error();
    }
  }
  auto current = StringField(doc, "current-context", source, "");
  if (!current.ok()) return FieldError(source, "current-context", "must be a string");
  if (merged.current_context.empty() && !current->empty()) {
    merged.current_context = *current;
    merged.current_context_source = std::string(source);
  }
  return Ok{};
}

}  // namespace globalsvc::kube::kubeconfig
