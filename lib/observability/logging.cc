#include "lib/observability/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

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

// A JSON string literal; invalid UTF-8 becomes U+FFFD so every line parses.
void AppendJsonString(spdlog::memory_buf_t& dest, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  dest.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = Utf8SequenceLength(text, i);
      if (length == 0) {
        Append(dest, "\\ufffd");
        ++i;
      } else {
        Append(dest, text.substr(i, length));
        i += length;
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
          const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          Append(dest, std::string_view(escaped, sizeof(escaped)));
        } else {
          dest.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  dest.push_back('"');
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

// Length of the key when the token at text[pos] is `key=...` with key
// [A-Za-z_][A-Za-z0-9_.-]*; else 0.
std::size_t FieldKeyLength(std::string_view text, std::size_t pos) {
  std::size_t i = pos;
  while (i < text.size()) {
    const char c = text[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool other = (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (letter || (other && i > pos)) {
      ++i;
    } else {
      break;
    }
  }
  if (i == pos || i >= text.size() || text[i] != '=') return 0;
  return i - pos;
}

// Free text (an error a server or library returned) may itself hold
// "key=value" words: these fields come last, and their value runs to the end.
bool IsFreeTextField(std::string_view key) {
  return key == "error" || key == "last_error";
}

bool IsReservedField(std::string_view key) {
  return key == "ts" || key == "level" || key == "component" || key == "msg";
}

struct SplitMessage {
  std::string_view msg;
  std::vector<std::pair<std::string_view, std::string>> fields;
};

// Where the first `key=` word starts (text.size() when none does).
std::size_t FirstFieldStart(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ')
      ++pos;
    if (pos < text.size() && FieldKeyLength(text, pos) > 0) return pos;
    while (pos < text.size() && text[pos] != ' ')
      ++pos;
  }
  return text.size();
}

// The value of `"..."` at pos (backslash escapes), moving pos past it; nullopt
// when unterminated or not followed by a space or the end.
std::optional<std::string> ReadQuoted(std::string_view text, std::size_t& pos) {
  ++pos;
  std::string value;
  while (pos < text.size()) {
    const char c = text[pos++];
    if (c == '\\' && pos < text.size()) {
      value += text[pos++];
    } else if (c == '"') {
      if (pos < text.size() && text[pos] != ' ') return std::nullopt;
      return value;
    } else {
      value += c;
    }
  }
  return std::nullopt;
}

// "list done cluster=c1 error=connection refused" → msg "list done",
// cluster "c1", error "connection refused" (words without '=' continue the
// previous value; `key="a b"` is unquoted; a free-text field takes the rest). Anything ambiguous (a
// reserved or repeated key, an unterminated quote) keeps the whole text as msg.
SplitMessage Split(std::string_view text) {
  SplitMessage whole{text, {}};
  const std::size_t fields_begin = FirstFieldStart(text);
  if (fields_begin == text.size()) return whole;

  SplitMessage split;
  split.msg = text.substr(0, fields_begin);
  while (!split.msg.empty() && split.msg.back() == ' ')
    split.msg.remove_suffix(1);
  std::size_t pos = fields_begin;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ')
      ++pos;
    if (pos >= text.size()) break;
    const std::size_t key_length = FieldKeyLength(text, pos);
    if (key_length == 0) {  // a word continuing the previous value
      const std::size_t end = std::min(text.find(' ', pos), text.size());
      split.fields.back().second += ' ';
      split.fields.back().second += text.substr(pos, end - pos);
      pos = end;
      continue;
    }
    const std::string_view key = text.substr(pos, key_length);
    if (IsReservedField(key)) return whole;
    for (const auto& field : split.fields) {
      if (field.first == key) return whole;
    }
    pos += key_length + 1;
    std::string value;
    if (pos < text.size() && text[pos] == '"') {
      auto quoted = ReadQuoted(text, pos);
      if (!quoted) return whole;
      value = std::move(*quoted);
    } else if (IsFreeTextField(key)) {
      std::string_view rest = text.substr(pos);
      while (!rest.empty() && rest.back() == ' ')
        rest.remove_suffix(1);
      value = std::string(rest);
      pos = text.size();
    } else {
      const std::size_t end = std::min(text.find(' ', pos), text.size());
      value = std::string(text.substr(pos, end - pos));
      pos = end;
    }
    split.fields.emplace_back(key, std::move(value));
  }
  return split;
}

class LogFormatter final : public spdlog::formatter {
 public:
  explicit LogFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view component(msg.logger_name.data(), msg.logger_name.size());
    const std::string_view payload(msg.payload.data(), msg.payload.size());
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
      AppendOneLine(dest, payload);
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
    const SplitMessage split = Split(payload);
    Append(dest, ",\"msg\":");
    AppendJsonString(dest, split.msg);
    for (const auto& [key, value] : split.fields) {
      dest.push_back(',');
      AppendJsonString(dest, key);
      dest.push_back(':');
      AppendJsonString(dest, value);
    }
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

std::shared_ptr<spdlog::logger> ComponentLogger(std::string_view component) {
  LoggingState& state = State();
  const std::string name(component);
  std::lock_guard lock(state.mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto created = std::make_shared<spdlog::logger>(name, state.sink);
  created->set_level(state.level);
  try {
    spdlog::register_logger(created);
  } catch (const std::exception&) {
    // Registered meanwhile by someone else (spdlog::get-or-create elsewhere).
    if (auto existing = spdlog::get(name)) return existing;
  }
  return created;
}

}  // namespace globalsvc::obs
