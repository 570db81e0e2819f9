#include "lib/mesh/object_reader.h"

namespace globalsvc::mesh {

using nlohmann::json;

std::optional<std::int32_t> PortNumber(const ObjectReader& reader, const json& parent,
                                       const char* name, const std::string& path) {
  auto value = reader.Integer(parent, name, path);
  if (!value) return std::nullopt;
  if (*value < 1 || *value > 65535) {
    reader.Problem(Severity::kWarning,
                   path + " " + std::to_string(*value) + " is outside 1-65535; ignored");
    return std::nullopt;
  }
  return static_cast<std::int32_t>(*value);
}

std::string Protocol(const ObjectReader& reader, const json& parent, const std::string& path) {
  std::string protocol = reader.String(parent, "protocol", (path + ".protocol").c_str());
  return protocol.empty() ? "TCP" : protocol;
}

const json* Array(const ObjectReader& reader, const json& parent, const char* name,
                  const std::string& path) {
  const json* value = SetFieldOf(parent, name);
  if (!value) return nullptr;
  if (value->is_array()) return value;
  reader.Problem(Severity::kWarning, path + " is not a list; ignored");
  return nullptr;
}

}  // namespace globalsvc::mesh
