#pragma once

// A JSON parser that builds nlohmann::json values faster than nlohmann's own:
// nlohmann::json::parse takes 2.1-2.3 times its CPU on watch events and
// 1.5-1.9 times on list pages of 500 EndpointSlices (bench_json;
// BENCHMARKS.md, "JSON parsing"). Watch streams carry thousands of objects
// per second and parsing dominates their cost. Same results as
// nlohmann::json::parse (RFC 8259, strings must be valid UTF-8, \u escapes
// including surrogate pairs decoded, integers as int64/uint64 and other
// numbers as double, numbers too small for a double read as zero and too
// large ones refused, duplicate keys: last wins); nullopt on malformed input.

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace globalsvc::kube {

[[nodiscard]] std::optional<nlohmann::json> ParseJson(std::string_view text);

}  // namespace globalsvc::kube
