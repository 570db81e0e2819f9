#include "lib/kube/json_parser.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "lib/base/utf8.h"

namespace globalsvc::kube {
namespace {

using nlohmann::json;

// Nesting beyond this is refused rather than risking the stack.
constexpr int kMaxDepth = 512;

class Parser {
 public:
  explicit Parser(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool ParseDocument(json& out) {
    SkipSpace();
    if (!ParseValue(out, 0)) return false;
    SkipSpace();
    return p_ == end_;
  }

 private:
  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t'))
      ++p_;
  }

  bool Literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  bool ParseValue(json& out, int depth) {
    if (p_ >= end_) return false;
    switch (*p_) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"': {
        std::string text;
        if (!ParseString(text)) return false;
        out = std::move(text);
        return true;
      }
      case 't':
        out = true;
        return Literal("true");
      case 'f':
        out = false;
        return Literal("false");
      case 'n':
        out = nullptr;
        return Literal("null");
      default:
        return ParseNumber(out);
    }
  }

  bool ParseObject(json& out, int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;  // '{'
    out = json::object();
    auto& object = out.get_ref<json::object_t&>();
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    std::string key;
    while (true) {
      SkipSpace();
      if (p_ >= end_ || *p_ != '"') return false;
      key.clear();
      if (!ParseString(key)) return false;
      SkipSpace();
      if (p_ >= end_ || *p_ != ':') return false;
      ++p_;
      SkipSpace();
      json& slot = object[key];
      if (!ParseValue(slot, depth)) return false;
      SkipSpace();
      if (p_ >= end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      return false;
    }
  }

  bool ParseArray(json& out, int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;  // '['
    out = json::array();
    auto& array = out.get_ref<json::array_t&>();
    SkipSpace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    while (true) {
      SkipSpace();
      array.emplace_back();
      if (!ParseValue(array.back(), depth)) return false;
      SkipSpace();
      if (p_ >= end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      return false;
    }
  }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool ReadHex4(unsigned& out) {
    if (end_ - p_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const int v = HexValue(p_[i]);
      if (v < 0) return false;
      out = (out << 4) | static_cast<unsigned>(v);
    }
    p_ += 4;
    return true;
  }

  static void AppendUtf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (code >> 6)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (code >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (code >> 18)));
      out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }

  // At an opening quote; appends the decoded string.
  bool ParseString(std::string& out) {
    ++p_;
    while (true) {
      // Copy the run of plain characters in one go.
      const char* run = p_;
      while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) {
        if (static_cast<unsigned char>(*p_) < 0x80) {
          ++p_;
          continue;
        }
        // Strings must be valid UTF-8, as nlohmann requires: a value that
        // is not could never be serialised again.
        const std::size_t length =
            Utf8SequenceLength(std::string_view(p_, static_cast<std::size_t>(end_ - p_)));
        if (length == 0) return false;
        p_ += length;
      }
      out.append(run, static_cast<std::size_t>(p_ - run));
      if (p_ >= end_) return false;
      if (*p_ == '"') {
        ++p_;
        return true;
      }
      if (*p_ != '\\') return false;  // a control character
      if (++p_ >= end_) return false;
      switch (*p_++) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          unsigned code = 0;
          if (!ReadHex4(code)) return false;
          if (code >= 0xD800 && code <= 0xDBFF) {
            unsigned low = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!ReadHex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          } else if (code >= 0xDC00 && code <= 0xDFFF) {
            return false;  // a lone low surrogate
          }
          AppendUtf8(out, code);
          break;
        }
        default:
          return false;
      }
    }
  }

  bool ParseNumber(json& out) {
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ >= end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9')
        ++p_;
    } else {
      return false;
    }
    bool is_float = false;
    if (p_ < end_ && *p_ == '.') {
      is_float = true;
      ++p_;
      const char* digits = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9')
        ++p_;
      if (p_ == digits) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      is_float = true;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      const char* digits = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9')
        ++p_;
      if (p_ == digits) return false;
    }
    if (!is_float) {
      if (*start == '-') {
        std::int64_t value = 0;
        if (std::from_chars(start, p_, value).ec == std::errc{}) {
          out = value;
          return true;
        }
      } else {
        std::uint64_t value = 0;
        if (std::from_chars(start, p_, value).ec == std::errc{}) {
          out = value;
          return true;
        }
      }
      // Out of 64-bit range: a double, as nlohmann does.
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(start, p_, value);
    if (end != p_) return false;
    if (ec == std::errc::result_out_of_range) {
      // Too small for a double reads as zero (or the nearest subnormal), as
      // with nlohmann; too large is refused.
      value = std::strtod(std::string(start, p_).c_str(), nullptr);
      if (!std::isfinite(value)) return false;
    } else if (ec != std::errc{}) {
      return false;
    }
    out = value;
    return true;
  }

  const char* p_;
  const char* end_;
};

}  // namespace

std::optional<json> ParseJson(std::string_view text) {
  json out;
  Parser parser(text);
  if (!parser.ParseDocument(out)) return std::nullopt;
  return out;
}

}  // namespace globalsvc::kube
