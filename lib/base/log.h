#pragma once

// Structured logging for every folder: a message plus fields passed as
// arguments, never formatted into the message.
//
//   log.Info("applied", {{"kind", "ServiceEntry"}, {"name", ns + "/" + name}, {"endpoints", 3}});
//
// One convention everywhere: the message is a constant, lower-case phrase
// saying what happened; everything variable is a field. Never log tokens,
// keys or kubeconfig contents (ARCHITECTURE.md, "Conventions").
//
// The record travels through spdlog as one payload (EncodeLogRecord) marked
// by kLogRecordMarker, so the formatter in lib/observability renders the
// exact fields as text or JSON without parsing text back.

#include <spdlog/spdlog.h>

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace globalsvc {

// One field of a record. The value is rendered when the field is built; its
// kind says whether JSON output writes it as a string, number or boolean.
struct LogField {
  enum class Kind : char { kString = 's', kNumber = 'n', kBool = 'b' };

  LogField(std::string_view name, std::string_view text);
  LogField(std::string_view name, const std::string& text)
      : LogField(name, std::string_view(text)) {}
  LogField(std::string_view name, const char* text)
      : LogField(name, std::string_view(text == nullptr ? "" : text)) {}
  LogField(std::string_view name, bool flag);
  LogField(std::string_view name, double number);
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>)
      LogField(std::string_view name, T number)
      : key(name), value(std::to_string(number)), kind(Kind::kNumber) {}

  std::string key;
  std::string value;
  Kind kind = Kind::kString;
};

// The fields of one record: built from a braced list at the call site, or
// from a vector when a helper assembles them (a diagnostic's fields).
class LogFields {
 public:
  LogFields() = default;
  LogFields(std::initializer_list<LogField> fields) : fields_(fields) {}
  explicit LogFields(std::vector<LogField> fields) : fields_(std::move(fields)) {}

  LogFields& Add(LogField field) {
    fields_.push_back(std::move(field));
    return *this;
  }
  LogFields& AddAll(const std::vector<LogField>& fields) {
    fields_.insert(fields_.end(), fields.begin(), fields.end());
    return *this;
  }
  [[nodiscard]] const std::vector<LogField>& items() const { return fields_; }

 private:
  std::vector<LogField> fields_;
};

// A component's logger: a level check, then one encoded record per call.
// Cheap to copy; a default-constructed Logger logs nothing.
class Logger {
 public:
  Logger() = default;
  explicit Logger(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

  [[nodiscard]] bool Enabled(spdlog::level::level_enum level) const {
    return logger_ != nullptr && logger_->should_log(level);
  }
  void Log(spdlog::level::level_enum level, std::string_view message,
           const LogFields& fields = {}) const;
  void Debug(std::string_view message, const LogFields& fields = {}) const {
    Log(spdlog::level::debug, message, fields);
  }
  void Info(std::string_view message, const LogFields& fields = {}) const {
    Log(spdlog::level::info, message, fields);
  }
  void Warn(std::string_view message, const LogFields& fields = {}) const {
    Log(spdlog::level::warn, message, fields);
  }
  void Error(std::string_view message, const LogFields& fields = {}) const {
    Log(spdlog::level::err, message, fields);
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

// Marks a payload made by EncodeLogRecord: spdlog's source location carries
// this address as its file name (one address per program: an inline object).
inline constexpr char kLogRecordMarker[] = "globalsvc-log-record";

// A decoded record; the views point into the payload.
struct LogRecordView {
  struct Field {
    std::string_view key;
    std::string_view value;
    LogField::Kind kind;
  };
  std::string_view message;
  std::vector<Field> fields;
};

// Length-prefixed, so any bytes in a value (spaces, '=', quotes, NUL) come
// back exactly.
[[nodiscard]] std::string EncodeLogRecord(std::string_view message, const LogFields& fields);
// nullopt when the payload is not a well-formed record.
[[nodiscard]] std::optional<LogRecordView> DecodeLogRecord(std::string_view payload);

}  // namespace globalsvc
