#pragma once

// Reads the fields of one Kubernetes object for the decoders
// (object_decoder.h): a field of the wrong type is reported against the
// object as a diagnostic and read as absent, never guessed.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "lib/base/json_fields.h"
#include "lib/mesh/diagnostic.h"
#include "lib/mesh/object_decoder.h"

namespace globalsvc::mesh {

class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& object, const char* kind, const DecodeContext& context)
      : context_(context) {
    ref_.cluster = context.cluster;
    ref_.kind = kind;
    if (const nlohmann::json* metadata = SetFieldOf(object, "metadata");
        metadata && metadata->is_object()) {
      metadata_ = metadata;
      ref_.name = String(*metadata, "name", "metadata.name");
      ref_.namespace_name = String(*metadata, "namespace", "metadata.namespace");
    }
  }

  const ObjectRef& ref() const { return ref_; }
  const nlohmann::json* metadata() const { return metadata_; }

  // Rejects the object when it has no name (nothing could refer to it).
  bool Named() {
    if (!ref_.name.empty()) return true;
    Problem(Severity::kWarning, "object has no metadata.name; ignored");
    return false;
  }

  // A namespaced kind needs its namespace: without one it would plan as
  // "autogen..<name>" with an invalid host (only a file or a broken server
  // can send that).
  bool NamedInNamespace() {
    if (!Named()) return false;
    if (!ref_.namespace_name.empty()) return true;
    Problem(Severity::kWarning, "object has no metadata.namespace; ignored");
    return false;
  }

  void Problem(Severity severity, std::string message) const {
    if (context_.diagnostics) {
      context_.diagnostics->push_back(
          {severity, DiagnosticCode::kInvalidObject, ref_, std::move(message)});
    }
  }

  std::string String(const nlohmann::json& parent, const char* name, const char* path) const {
    const nlohmann::json* value = SetFieldOf(parent, name);
    if (!value) return {};
    if (value->is_string()) return value->get<std::string>();
    Problem(Severity::kWarning, std::string(path) + " is not a string; ignored");
    return {};
  }

  std::optional<std::int64_t> Integer(const nlohmann::json& parent, const char* name,
                                      const std::string& path) const {
    const nlohmann::json* value = SetFieldOf(parent, name);
    if (!value) return std::nullopt;
    if (value->is_number_integer()) return value->get<std::int64_t>();
    Problem(Severity::kWarning, path + " is not an integer; ignored");
    return std::nullopt;
  }

  std::optional<bool> Bool(const nlohmann::json& parent, const char* name,
                           const std::string& path) const {
    const nlohmann::json* value = SetFieldOf(parent, name);
    if (!value) return std::nullopt;
    if (value->is_boolean()) return value->get<bool>();
    Problem(Severity::kWarning, path + " is not a boolean; ignored");
    return std::nullopt;
  }

  // A string-valued entry of metadata.labels or metadata.annotations.
  std::optional<std::string> MetadataEntry(const char* map, const char* key) const {
    if (!metadata_) return std::nullopt;
    return MapEntry(*metadata_, map, key, std::string("metadata.") + map);
  }

  std::optional<std::string> MapEntry(const nlohmann::json& parent, const char* map,
                                      const char* key, const std::string& path) const {
    const nlohmann::json* entries = SetFieldOf(parent, map);
    if (!entries) return std::nullopt;
    if (!entries->is_object()) {
      Problem(Severity::kWarning, path + " is not a map; ignored");
      return std::nullopt;
    }
    const nlohmann::json* value = SetFieldOf(*entries, key);
    if (!value) return std::nullopt;
    if (value->is_string()) return value->get<std::string>();
    Problem(Severity::kWarning, path + "[" + key + "] is not a string; ignored");
    return std::nullopt;
  }

 private:
  const DecodeContext& context_;
  const nlohmann::json* metadata_ = nullptr;
  ObjectRef ref_;
};

// An integer port number within 1-65535.
[[nodiscard]] std::optional<std::int32_t> PortNumber(const ObjectReader& reader,
                                                     const nlohmann::json& parent, const char* name,
                                                     const std::string& path);
// A port's protocol, "TCP" when unset.
[[nodiscard]] std::string Protocol(const ObjectReader& reader, const nlohmann::json& parent,
                                   const std::string& path);
// A list-valued member.
[[nodiscard]] const nlohmann::json* Array(const ObjectReader& reader, const nlohmann::json& parent,
                                          const char* name, const std::string& path);

}  // namespace globalsvc::mesh
