#include "lib/base/json_fields.h"

namespace globalsvc {

const nlohmann::json* FieldOf(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

const nlohmann::json* SetFieldOf(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json* value = FieldOf(object, key);
  return value != nullptr && !value->is_null() ? value : nullptr;
}

const nlohmann::json* FieldAt(const nlohmann::json& object,
                              std::initializer_list<std::string_view> path) {
  const nlohmann::json* at = &object;
  for (const std::string_view key : path) {
    at = FieldOf(*at, key);
    if (at == nullptr) return nullptr;
  }
  return at;
}

std::string StringFieldAt(const nlohmann::json& object,
                          std::initializer_list<std::string_view> path) {
  const nlohmann::json* value = FieldAt(object, path);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::optional<std::int64_t> IntFieldAt(const nlohmann::json& object,
                                       std::initializer_list<std::string_view> path) {
  const nlohmann::json* value = FieldAt(object, path);
  if (value == nullptr || !value->is_number_integer()) return std::nullopt;
  if (value->is_number_unsigned() &&
      value->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    return std::nullopt;
  }
  return value->get<std::int64_t>();
}

std::string DumpJson(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace globalsvc
