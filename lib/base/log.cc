#include "lib/base/log.h"

#include <charconv>
#include <cmath>

namespace globalsvc {
namespace {

void AppendChunk(std::string& out, std::string_view chunk) {
  out += std::to_string(chunk.size());
  out += ':';
  out += chunk;
}

// Reads "<length>:<bytes>" at pos, moving pos past it.
std::optional<std::string_view> ReadChunk(std::string_view payload, std::size_t& pos) {
  std::size_t length = 0;
  const char* begin = payload.data() + pos;
  const char* end = payload.data() + payload.size();
  const auto [after, error] = std::from_chars(begin, end, length);
  if (error != std::errc() || after == begin || after == end || *after != ':') return std::nullopt;
  const auto start = static_cast<std::size_t>(after - payload.data()) + 1;
  if (length > payload.size() - start) return std::nullopt;
  pos = start + length;
  return payload.substr(start, length);
}

bool IsKind(char c) {
  return c == static_cast<char>(LogField::Kind::kString) ||
         c == static_cast<char>(LogField::Kind::kNumber) ||
         c == static_cast<char>(LogField::Kind::kBool);
}

}  // namespace

LogField::LogField(std::string_view name, std::string_view text) : key(name), value(text) {}

LogField::LogField(std::string_view name, bool flag)
    : key(name), value(flag ? "true" : "false"), kind(Kind::kBool) {}

LogField::LogField(std::string_view name, double number) : key(name) {
  if (!std::isfinite(number)) {  // JSON has no NaN or infinity: say it as text
    value = std::isnan(number) ? "NaN" : (number > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), number);
  value.assign(buffer, error == std::errc() ? end : buffer);
  kind = Kind::kNumber;
}

void Logger::Log(spdlog::level::level_enum level, std::string_view message,
                 const LogFields& fields) const {
  if (!Enabled(level)) return;
  const std::string payload = EncodeLogRecord(message, fields);
  logger_->log(spdlog::source_loc{kLogRecordMarker, 0, ""}, level, std::string_view(payload));
}

std::string EncodeLogRecord(std::string_view message, const LogFields& fields) {
  std::string out;
  AppendChunk(out, message);
  for (const LogField& field : fields.items()) {
    out += static_cast<char>(field.kind);
    AppendChunk(out, field.key);
    AppendChunk(out, field.value);
  }
  return out;
}

std::optional<LogRecordView> DecodeLogRecord(std::string_view payload) {
  std::size_t pos = 0;
  LogRecordView record;
  auto message = ReadChunk(payload, pos);
  if (!message) return std::nullopt;
  record.message = *message;
  while (pos < payload.size()) {
    const char kind = payload[pos++];
    if (!IsKind(kind)) return std::nullopt;
    auto key = ReadChunk(payload, pos);
    if (!key) return std::nullopt;
    auto value = ReadChunk(payload, pos);
    if (!value) return std::nullopt;
    record.fields.push_back({*key, *value, static_cast<LogField::Kind>(kind)});
  }
  return record;
}

}  // namespace globalsvc
