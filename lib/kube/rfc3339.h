#pragma once

// Kubernetes timestamps: metav1.Time (RFC 3339, seconds) and metav1.MicroTime
// (RFC 3339 with microseconds), always written in UTC.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace globalsvc::kube {

// Accepts "2006-01-02T15:04:05[.fraction](Z|±hh:mm)".
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> ParseRfc3339(
    std::string_view text);

// "2006-01-02T15:04:05.000000Z".
[[nodiscard]] std::string FormatMicroTime(std::chrono::system_clock::time_point time);

}  // namespace globalsvc::kube
