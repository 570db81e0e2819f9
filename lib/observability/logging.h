#pragma once

// Process-wide logging: one spdlog logger per component, all sharing one sink
// to stderr, in text or JSON lines.
//
// Callers log a message and fields through globalsvc::Logger (lib/base/log.h).
// Text (logfmt; a value with spaces, quotes or '=' is quoted):
//   2026-11-27T02:25:02.123Z info  component=reflector listed cluster=c1 items=42
// JSON (one object per line; numbers and booleans keep their type):
//   {"ts":"2026-11-27T02:25:02.123Z","level":"info","component":"reflector",
//    "msg":"listed","cluster":"c1","items":42}
// Text from spdlog loggers that are not ours is the message, whole.

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string_view>

#include "lib/base/log.h"

namespace globalsvc::obs {

enum class LogFormat { kText, kJson };

// "text" or "json" (case-insensitive); nullopt otherwise.
[[nodiscard]] std::optional<LogFormat> ParseLogFormat(std::string_view text);

// Sets the format and level of every logger: the component loggers, spdlog's
// default logger and any other registered one (they are moved onto the shared
// stderr sink). Call it at start-up, before other threads log; calling it
// again later only changes format and level.
void ConfigureLogging(LogFormat format, spdlog::level::level_enum level);

// The logger of a component ("reflector", "reconciler", ...), created on
// first use on the shared sink with the configured level. Thread-safe.
[[nodiscard]] Logger ComponentLogger(std::string_view component);

// The formatter ConfigureLogging puts on the shared sink; exposed for tests
// and for extra sinks. The component is the logger's name.
[[nodiscard]] std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format);

}  // namespace globalsvc::obs
