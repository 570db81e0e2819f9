#include "lib/base/yaml_scalar.h"

#include <charconv>
#include <optional>

namespace globalsvc::yaml_scalar {
namespace {

bool IsNullScalar(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

bool ParseBoolScalar(const std::string& s, bool& out) {
  if (s == "true" || s == "True" || s == "TRUE") {
    out = true;
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    out = false;
    return true;
  }
  return false;
}

// The scalar grammars below are plain loops rather than std::regex:
// libstdc++'s regex recurses once per character and overflows the stack on a
// long scalar.

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsOctalDigit(char c) {
  return c >= '0' && c <= '7';
}

// Removes the leading run of characters that satisfy `accept`; returns how many.
template <typename Predicate>
std::size_t TakeWhile(std::string_view& text, Predicate accept) {
  std::size_t n = 0;
  while (n < text.size() && accept(text[n]))
    ++n;
  text.remove_prefix(n);
  return n;
}

bool AllOf(std::string_view text, bool (*accept)(char)) {
  return !text.empty() && TakeWhile(text, accept) > 0 && text.empty();
}

void SkipSign(std::string_view& text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsFloatText(std::string_view text) {
  SkipSign(text);
  if (!text.empty() && text.front() == '.') {
    text.remove_prefix(1);
    if (TakeWhile(text, IsDigit) == 0) return false;
  } else {
    if (TakeWhile(text, IsDigit) == 0) return false;
    if (!text.empty() && text.front() == '.') {
      text.remove_prefix(1);
      TakeWhile(text, IsDigit);
    }
  }
  if (!text.empty() && (text.front() == 'e' || text.front() == 'E')) {
    text.remove_prefix(1);
    SkipSign(text);
    if (TakeWhile(text, IsDigit) == 0) return false;
  }
  return text.empty();
}

bool ParseIntScalar(const std::string& s, nlohmann::json& out) {
  const std::string_view text(s);
  int base = 10;
  std::string digits = s;
  if (text.starts_with("0x") && AllOf(text.substr(2), IsHexDigit)) {
    base = 16;
    digits = s.substr(2);
  } else if (text.starts_with("0o") && AllOf(text.substr(2), IsOctalDigit)) {
    base = 8;
    digits = s.substr(2);
  } else {
    std::string_view unsigned_part = text;
    SkipSign(unsigned_part);
    if (!AllOf(unsigned_part, IsDigit)) return false;
  }
  if (!digits.empty() && digits.front() == '+') digits.erase(0, 1);
  if (!digits.empty() && digits.front() == '-') {
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) return false;
    out = value;
    return true;
  }
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return false;
  if (value <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<std::int64_t>(value);
  } else {
    out = value;
  }
  return true;
}

bool ParseFloatScalar(const std::string& s, nlohmann::json& out) {
  if (!IsFloatText(s)) return false;
  try {
    out = std::stod(s);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

nlohmann::json ResolvePlainScalar(const std::string& s) {
  if (IsNullScalar(s)) return nullptr;
  bool flag = false;
  if (ParseBoolScalar(s, flag)) return flag;
  nlohmann::json number;
  if (ParseIntScalar(s, number)) return number;
  if (ParseFloatScalar(s, number)) return number;
  return s;
}

bool LooksLikeNumberOrDate(std::string_view s) {
  SkipSign(s);
  if (!s.empty() && IsDigit(s.front())) return true;
  if (s.size() >= 2 && s[0] == '.' && IsDigit(s[1])) return true;
  for (std::string_view word : {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"}) {
    if (s == word) return true;
  }
  return false;
}

bool IsYaml11Keyword(std::string_view s) {
  static const char* const kWords[] = {"y",     "Y",    "yes",  "Yes",  "YES",  "n",     "N",
                                       "no",    "No",   "NO",   "on",   "On",   "ON",    "off",
                                       "Off",   "OFF",  "true", "True", "TRUE", "false", "False",
                                       "FALSE", "null", "Null", "NULL", "~"};
  for (const char* word : kWords) {
    if (s == word) return true;
  }
  return false;
}

bool IsDottedQuad(std::string_view s) {
  for (int group = 0; group < 4; ++group) {
    if (group > 0) {
      if (s.empty() || s.front() != '.') return false;
      s.remove_prefix(1);
    }
    const std::size_t digits = TakeWhile(s, IsDigit);
    if (digits < 1 || digits > 3) return false;
  }
  return s.empty();
}

}  // namespace globalsvc::yaml_scalar
