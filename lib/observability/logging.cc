#include "lib/observability/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace globalsvc::obs {
namespace {

constexpr std::string_view kDefaultLoggerName = "globalsvc";

void Append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// RFC 3339 in UTC with milliseconds: 2026-11-27T02:25:02.123Z.
void AppendTimestamp(spdlog::memory_buf_t& dest, spdlog::log_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds);
  const std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  const int n = std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                              tm.tm_sec, static_cast<int>(millis.count()));
  if (n > 0) Append(dest, std::string_view(buffer, static_cast<std::size_t>(n)));
}

// Length of a well-formed UTF-8 sequence at text[i], or 0.
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return length;
}

enum class Escapes { kJson, kLogfmt };

// A quoted string: '"', '\\' and line breaks escaped; other control
// characters and bytes that are not UTF-8 as JSON wants them (\u00XX,
// U+FFFD, so every line parses) or as logfmt keeps them (\xHH, lossless).
void AppendQuoted(spdlog::memory_buf_t& dest, std::string_view text, Escapes escapes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto append_byte = [&](unsigned char c) {
    if (escapes == Escapes::kJson) {
      const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      Append(dest, std::string_view(escaped, sizeof(escaped)));
    } else {
      const char escaped[] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xF]};
      Append(dest, std::string_view(escaped, sizeof(escaped)));
    }
  };
  dest.push_back('"');
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = Utf8SequenceLength(text, i);
      if (length > 0) {
        Append(dest, text.substr(i, length));
        i += length - 1;
      } else if (escapes == Escapes::kJson) {
        Append(dest, "\\ufffd");
      } else {
        append_byte(c);
      }
      continue;
    }
    switch (c) {
      case '"':
        Append(dest, "\\\"");
        break;
      case '\\':
        Append(dest, "\\\\");
        break;
      case '\n':
        Append(dest, "\\n");
        break;
      case '\r':
        Append(dest, "\\r");
        break;
      case '\t':
        Append(dest, "\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          append_byte(c);
        } else {
          dest.push_back(static_cast<char>(c));
        }
    }
  }
  dest.push_back('"');
}

void AppendJsonString(spdlog::memory_buf_t& dest, std::string_view text) {
  AppendQuoted(dest, text, Escapes::kJson);
}

// Text mode keeps one record per line: line breaks in a message are escaped.
void AppendOneLine(spdlog::memory_buf_t& dest, std::string_view text) {
  for (const char c : text) {
    if (c == '\n') {
      Append(dest, "\\n");
    } else if (c == '\r') {
      Append(dest, "\\r");
    } else {
      dest.push_back(c);
    }
  }
}

// logfmt: a value is quoted when it is empty or holds a space, '"', '=',
// '\\', a control character or bytes that are not UTF-8.
bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7F) return true;
    if (c >= 0x80) {
      const std::size_t length = Utf8SequenceLength(value, i);
      if (length == 0) return true;
      i += length - 1;
    }
  }
  return false;
}

void AppendTextValue(spdlog::memory_buf_t& dest, std::string_view value) {
  if (NeedsQuotes(value)) {
    AppendQuoted(dest, value, Escapes::kLogfmt);
  } else {
    Append(dest, value);
  }
}

bool IsJsonNumber(std::string_view value) {
  if (value.empty()) return false;
  for (const char c : value) {
    const bool digit = c >= '0' && c <= '9';
    if (!digit && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E') return false;
  }
  return true;
}

void AppendJsonValue(spdlog::memory_buf_t& dest, const LogRecordView::Field& field) {
  const bool number = field.kind == LogField::Kind::kNumber && IsJsonNumber(field.value);
  const bool boolean =
      field.kind == LogField::Kind::kBool && (field.value == "true" || field.value == "false");
  if (number || boolean) {
    Append(dest, field.value);
  } else {
    AppendJsonString(dest, field.value);
  }
}

bool IsReservedKey(std::string_view key) {
  return key == "ts" || key == "level" || key == "component" || key == "msg";
}

// JSON keys stay unique: a field named like a reserved key or an earlier
// field is written as "<key>_2", "<key>_3", ...
std::string UniqueJsonKey(std::string_view key, std::vector<std::string>& used) {
  std::string candidate(key);
  for (int n = 2;
       IsReservedKey(candidate) || std::find(used.begin(), used.end(), candidate) != used.end();
       ++n) {
    candidate = std::string(key) + "_" + std::to_string(n);
  }
  used.push_back(candidate);
  return candidate;
}

void AppendTextRecord(spdlog::memory_buf_t& dest, std::string_view payload, bool is_record) {
  const auto record = is_record ? DecodeLogRecord(payload) : std::nullopt;
  if (!record) {
    AppendOneLine(dest, payload);
    return;
  }
  AppendOneLine(dest, record->message);
  for (const auto& field : record->fields) {
    dest.push_back(' ');
    AppendOneLine(dest, field.key);
    dest.push_back('=');
    AppendTextValue(dest, field.value);
  }
}

void AppendJsonRecord(spdlog::memory_buf_t& dest, std::string_view payload, bool is_record) {
  const auto record = is_record ? DecodeLogRecord(payload) : std::nullopt;
  Append(dest, ",\"msg\":");
  if (!record) {
    AppendJsonString(dest, payload);
    return;
  }
  AppendJsonString(dest, record->message);
  std::vector<std::string> used;
  for (const auto& field : record->fields) {
    dest.push_back(',');
    AppendJsonString(dest, UniqueJsonKey(field.key, used));
    dest.push_back(':');
    AppendJsonValue(dest, field);
  }
}

class LogFormatter final : public spdlog::formatter {
 public:
  explicit LogFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view component(msg.logger_name.data(), msg.logger_name.size());
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    // Only our Logger sets the marker; other spdlog users' text is a plain message.
    const bool is_record = msg.source.filename == kLogRecordMarker;
    if (format_ == LogFormat::kText) {
      AppendTimestamp(dest, msg.time);
      dest.push_back(' ');
      const std::string_view level = LevelName(msg.level);
      Append(dest, level);
      for (std::size_t i = level.size(); i < 5; ++i)
        dest.push_back(' ');
      dest.push_back(' ');
      if (!component.empty()) {
        Append(dest, "component=");
        Append(dest, component);
        dest.push_back(' ');
      }
      AppendTextRecord(dest, payload, is_record);
      dest.push_back('\n');
      return;
    }
    Append(dest, "{\"ts\":\"");
    AppendTimestamp(dest, msg.time);
    Append(dest, "\",\"level\":\"");
    Append(dest, LevelName(msg.level));
    Append(dest, "\"");
    if (!component.empty()) {
      Append(dest, ",\"component\":");
      AppendJsonString(dest, component);
    }
    AppendJsonRecord(dest, payload, is_record);
    Append(dest, "}\n");
  }

  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LogFormatter>(format_);
  }

 private:
  LogFormat format_;
};

struct LoggingState {
  std::mutex mutex;
  std::shared_ptr<spdlog::sinks::stderr_sink_mt> sink;
  spdlog::level::level_enum level = spdlog::level::info;
};

// Never destroyed: loggers may still log from other threads during exit.
LoggingState& State() {
  static LoggingState* state = [] {
    auto* created = new LoggingState;
    created->sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    created->sink->set_formatter(MakeLogFormatter(LogFormat::kText));
    return created;
  }();
  return *state;
}

}  // namespace

std::optional<LogFormat> ParseLogFormat(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower == "text") return LogFormat::kText;
  if (lower == "json") return LogFormat::kJson;
  return std::nullopt;
}

std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format) {
  return std::make_unique<LogFormatter>(format);
}

void ConfigureLogging(LogFormat format, spdlog::level::level_enum level) {
  LoggingState& state = State();
  std::lock_guard lock(state.mutex);
  state.level = level;
  state.sink->set_formatter(MakeLogFormatter(format));
  try {
    auto default_logger = spdlog::default_logger();
    if (!default_logger || default_logger->name() != kDefaultLoggerName) {
      auto created = std::make_shared<spdlog::logger>(std::string(kDefaultLoggerName), state.sink);
      spdlog::set_default_logger(created);
    }
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) {
      auto& sinks = logger->sinks();
      if (sinks.size() != 1 || sinks.front() != state.sink) {
        sinks.assign(1, state.sink);
      }
      logger->set_level(level);
    });
    spdlog::set_level(level);
  } catch (const std::exception&) {
    // spdlog reports registry problems by exception; logging keeps its
    // previous configuration rather than take the process down.
  }
}

Logger ComponentLogger(std::string_view component) {
  LoggingState& state = State();
  const std::string name(component);
  std::lock_guard lock(state.mutex);
  if (auto existing = spdlog::get(name)) return Logger(existing);
  auto created = std::make_shared<spdlog::logger>(name, state.sink);
  created->set_level(state.level);
  try {
    spdlog::register_logger(created);
  } catch (const std::exception&) {
    // Registered meanwhile by someone else (spdlog::get-or-create elsewhere).
    if (auto existing = spdlog::get(name)) return Logger(existing);
  }
  return Logger(created);
}

}  // namespace globalsvc::obs
