#pragma once

// Type-checked reads of JSON from outside (API servers, Secrets, files): a
// field that is absent or of another type reads as absent instead of
// throwing, because a server or a proxy in front of it can send any shape.
// And a serialisation that never throws, for text we show or hash.

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace globalsvc {

// object[key], or null when `object` is not an object or has no such key.
[[nodiscard]] const nlohmann::json* FieldOf(const nlohmann::json& object, std::string_view key);

// object[key], or null when `object` is not an object, has no such key, or
// holds JSON null there (which Kubernetes reads as absent).
[[nodiscard]] const nlohmann::json* SetFieldOf(const nlohmann::json& object, std::string_view key);

// The value at `path` (object keys, outermost first), or null.
[[nodiscard]] const nlohmann::json* FieldAt(const nlohmann::json& object,
                                            std::initializer_list<std::string_view> path);

// The string at `path`, or "" when absent or not a string.
[[nodiscard]] std::string StringFieldAt(const nlohmann::json& object,
                                        std::initializer_list<std::string_view> path);

// The integer at `path`, or nullopt when absent or not an integer.
[[nodiscard]] std::optional<std::int64_t> IntFieldAt(const nlohmann::json& object,
                                                     std::initializer_list<std::string_view> path);

// Compact JSON text; bytes that are not UTF-8 become U+FFFD instead of
// throwing (nlohmann's default).
[[nodiscard]] std::string DumpJson(const nlohmann::json& value, int indent = -1);

}  // namespace globalsvc
