#pragma once

// Kubernetes timestamps: metav1.Time (RFC 3339, seconds) and metav1.MicroTime
// (RFC 3339 with microseconds), always written in UTC.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace globalsvc {

// Accepts "2006-01-02T15:04:05[.fraction](Z|±hh:mm)".
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> ParseRfc3339(
    std::string_view text);

// The same, as whole seconds since the epoch (metadata.creationTimestamp).
[[nodiscard]] std::optional<std::int64_t> ParseRfc3339Seconds(std::string_view text);

// "2006-01-02T15:04:05.000000Z".
[[nodiscard]] std::string FormatMicroTime(std::chrono::system_clock::time_point time);

}  // namespace globalsvc
