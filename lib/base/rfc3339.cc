#include "lib/base/rfc3339.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace globalsvc {
namespace {

bool ReadInt(std::string_view text, std::size_t pos, std::size_t width, int& out) {
  if (pos + width > text.size()) return false;
  const char* begin = text.data() + pos;
  const auto [end, ec] = std::from_chars(begin, begin + width, out);
  return ec == std::errc{} && end == begin + width;
}

// Seconds since the epoch (UTC) and the fraction of the next one: wider than
// system_clock, whose nanoseconds end in 2262, while a timestamp may name any
// year up to 9999.
struct ParsedTime {
  std::int64_t seconds = 0;
  std::chrono::microseconds fraction{0};
};

std::optional<ParsedTime> ParseParts(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  if (!ReadInt(text, 0, 4, year) || !ReadInt(text, 5, 2, month) || !ReadInt(text, 8, 2, day) ||
      !ReadInt(text, 11, 2, hour) || !ReadInt(text, 14, 2, minute) ||
      !ReadInt(text, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::chrono::microseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    long long scale = 100'000;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += std::chrono::microseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0, om = 0;
    if (pos + 6 != text.size() || text[pos + 3] != ':' || !ReadInt(text, pos + 1, 2, oh) ||
        !ReadInt(text, pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset_minutes = (text[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return ParsedTime{static_cast<std::int64_t>(timegm(&tm)) - offset_minutes * 60, fraction};
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text) {
  const auto parsed = ParseParts(text);
  if (!parsed) return std::nullopt;
  using Clock = std::chrono::system_clock;
  constexpr std::int64_t kLimit =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count() - 1;
  if (parsed->seconds > kLimit || parsed->seconds < -kLimit) return std::nullopt;
  return Clock::time_point(
             std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(parsed->seconds))) +
         parsed->fraction;
}

std::optional<std::int64_t> ParseRfc3339Seconds(std::string_view text) {
  const auto parsed = ParseParts(text);
  if (!parsed) return std::nullopt;
  return parsed->seconds;
}

std::string FormatMicroTime(std::chrono::system_clock::time_point time) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros % 1'000'000));
  return buffer;
}

}  // namespace globalsvc
