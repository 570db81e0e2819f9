#include "lib/base/yaml_json.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lib/base/utf8.h"

namespace globalsvc {
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

nlohmann::json ResolvePlainScalar(const std::string& s) {
  if (IsNullScalar(s)) return nullptr;
  bool flag = false;
  if (ParseBoolScalar(s, flag)) return flag;
  nlohmann::json number;
  if (ParseIntScalar(s, number)) return number;
  if (ParseFloatScalar(s, number)) return number;
  return s;
}

// Builds JSON documents straight from yaml-cpp's parse events (no YAML::Node
// in between), which lets it refuse what would hurt the caller: aliases that
// expand without bound ("billion laughs"), an alias inside its own anchor (a
// cycle), and a parser that stops making progress (yaml-cpp 0.7 loops
// forever on a document that starts with ',').
class JsonDocumentBuilder : public YAML::EventHandler {
 public:
  // Copied by aliases, in total: far more than any Kubernetes object or
  // kubeconfig needs, far less than memory. Values alone are not enough: one
  // alias to a long string copies all of it (a 200 KB Secret of aliases to a
  // 4 KB string would grow to hundreds of MiB), so bytes are bounded too.
  static constexpr std::size_t kMaxAliasedValues = 100'000;
  static constexpr std::size_t kMaxAliasedBytes = 8u << 20;

  explicit JsonDocumentBuilder(std::vector<nlohmann::json>& documents) : documents_(documents) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (last_document_start_ && *last_document_start_ == mark.pos) {
      throw YAML::ParserException(mark, "unexpected token at the start of a document");
    }
    last_document_start_ = mark.pos;
    anchors_.clear();
    root_ = nullptr;
  }

  void OnDocumentEnd() override {
    if (!root_.is_null()) documents_.push_back(std::move(root_));
    root_ = nullptr;
  }

  void OnNull(const YAML::Mark& /*mark*/, YAML::anchor_t anchor) override {
    if (ExpectingKey()) {
      Remember(anchor, nullptr);
      stack_.back().key = "null";
      return;
    }
    Complete(nullptr, anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end() || !it->second) {
      throw YAML::ParserException(mark, "an alias refers to its own anchor");
    }
    const nlohmann::json& value = *it->second;
    const Footprint copied = FootprintOf(value);
    aliased_values_ += copied.values;
    aliased_bytes_ += copied.bytes;
    if (aliased_values_ > kMaxAliasedValues) {
      throw YAML::ParserException(mark, "aliases expand to too many values");
    }
    if (aliased_bytes_ > kMaxAliasedBytes) {
      throw YAML::ParserException(
          mark, "aliases expand to more than " + std::to_string(kMaxAliasedBytes >> 20) + " MiB");
    }
    if (ExpectingKey()) {
      if (value.is_string()) {
        stack_.back().key = value.get<std::string>();
      } else if (value.is_primitive()) {
        stack_.back().key = value.dump();
      } else {
        throw YAML::ParserException(mark, "a mapping key must be a scalar");
      }
      return;
    }
    Complete(nlohmann::json(value), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& text) override {
    // yaml-cpp passes bytes through; a JSON string must be valid UTF-8.
    if (!IsValidUtf8(text)) throw YAML::ParserException(mark, "not valid UTF-8");
    nlohmann::json value = tag == "!" || tag == "tag:yaml.org,2002:str" ? nlohmann::json(text)
                                                                        : ResolvePlainScalar(text);
    if (ExpectingKey()) {
      // Kubernetes objects only use string keys; a scalar key keeps its text.
      Remember(anchor, std::move(value));
      stack_.back().key = text;
      return;
    }
    Complete(std::move(value), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    Open(mark, nlohmann::json::array(), anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    Open(mark, nlohmann::json::object(), anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    nlohmann::json value;  // an array or an object
    YAML::anchor_t anchor = 0;
    std::optional<std::string> key;  // objects: the key waiting for its value
  };

  // What copying a value costs: its values, and its bytes (each value's own
  // size plus the text of its strings and keys).
  struct Footprint {
    std::size_t values = 0;
    std::size_t bytes = 0;
  };

  static Footprint FootprintOf(const nlohmann::json& value) {
    Footprint total{1, sizeof(nlohmann::json)};
    if (value.is_string()) total.bytes += value.get_ref<const std::string&>().size();
    if (value.is_object()) {
      for (const auto& [key, item] : value.items()) {
        const Footprint inner = FootprintOf(item);
        total.values += inner.values;
        total.bytes += inner.bytes + key.size();
      }
    } else if (value.is_array()) {
      for (const auto& item : value) {
        const Footprint inner = FootprintOf(item);
        total.values += inner.values;
        total.bytes += inner.bytes;
      }
    }
    return total;
  }

  bool ExpectingKey() const {
    return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().key;
  }

  void Remember(YAML::anchor_t anchor, nlohmann::json value) {
    if (anchor != 0) anchors_[anchor] = std::move(value);
  }

  void Open(const YAML::Mark& mark, nlohmann::json empty, YAML::anchor_t anchor) {
    if (ExpectingKey()) throw YAML::ParserException(mark, "a mapping key must be a scalar");
    // Known but not complete: an alias to it from inside is a cycle.
    if (anchor != 0) anchors_[anchor] = std::nullopt;
    stack_.push_back({std::move(empty), anchor, std::nullopt});
  }

  void Close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    Complete(std::move(frame.value), frame.anchor);
  }

  // A finished value goes into its parent, or becomes the document.
  void Complete(nlohmann::json value, YAML::anchor_t anchor) {
    if (anchor != 0) anchors_[anchor] = value;
    if (stack_.empty()) {
      root_ = std::move(value);
      return;
    }
    Frame& parent = stack_.back();
    if (parent.value.is_array()) {
      parent.value.push_back(std::move(value));
    } else {
      parent.value[*parent.key] = std::move(value);  // the last of duplicate keys wins
      parent.key.reset();
    }
  }

  std::vector<nlohmann::json>& documents_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, std::optional<nlohmann::json>> anchors_;
  nlohmann::json root_;
  std::size_t aliased_values_ = 0;
  std::size_t aliased_bytes_ = 0;
  std::optional<int> last_document_start_;
};

// Text a YAML reader may take for a number or a date: after an optional
// sign, a digit or '.' and a digit, or .inf/.nan in any of YAML's spellings.
// (Hex, octal and dates start with a digit.)
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

bool IsIpLike(std::string_view s) {
  // Dotted quads and IPv6 text read back as strings in YAML 1.2; kubectl
  // prints them plain, so do we. Four groups of one to three digits.
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

// Characters a YAML reader does not keep as they are: a byte-order mark is
// dropped and NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR are line breaks.
// Each with the escape that keeps it inside a double-quoted scalar.
constexpr std::pair<std::string_view, std::string_view> kYamlSpecialCharacters[] = {
    {"\xEF\xBB\xBF", "\\ufeff"},
    {"\xC2\x85", "\\u0085"},
    {"\xE2\x80\xA8", "\\u2028"},
    {"\xE2\x80\xA9", "\\u2029"},
};

bool HasYamlSpecialCharacter(std::string_view s) {
  for (const auto& [raw, escaped] : kYamlSpecialCharacters) {
    if (s.find(raw) != std::string_view::npos) return true;
  }
  return false;
}

void AppendQuoted(std::string& out, std::string_view s) {
  // Bytes that are not UTF-8 (only in values built by hand: parsed text is
  // checked) become U+FFFD rather than an exception.
  std::string quoted =
      nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Escaped after the dump: these byte sequences only ever encode themselves.
  for (const auto& [raw, escaped] : kYamlSpecialCharacters) {
    for (auto at = quoted.find(raw); at != std::string::npos; at = quoted.find(raw, at)) {
      quoted.replace(at, raw.size(), escaped);
      at += escaped.size();
    }
  }
  out += quoted;
}

void AppendScalar(std::string& out, const nlohmann::json& value) {
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (IsPlainYamlSafe(s)) {
      out += s;
    } else {
      AppendQuoted(out, s);
    }
  } else if (value.is_null()) {
    out += "null";
  } else {
    out += value.dump();
  }
}

bool IsEmptyContainer(const nlohmann::json& value) {
  return (value.is_object() || value.is_array()) && value.empty();
}

void EmitNode(std::string& out, const nlohmann::json& value, int indent);

// YAML limits an implicit key to 1024 characters; a longer one needs the
// explicit "? key" form (bytes are counted: never fewer than characters).
constexpr std::size_t kImplicitKeyLimit = 1024;

void EmitKeyValue(std::string& out, const std::string& key, const nlohmann::json& value,
                  int indent) {
  std::string rendered;
  AppendScalar(rendered, key);
  const bool explicit_key = rendered.size() > kImplicitKeyLimit;
  if (explicit_key) {
    out += "? ";
    out += rendered;
    out += '\n';
    out.append(static_cast<std::size_t>(indent), ' ');
  } else {
    out += rendered;
  }
  out += ':';
  if (value.is_object() && !value.empty()) {
    out += '\n';
    EmitNode(out, value, indent + 2);
  } else if (value.is_array() && !value.empty()) {
    out += '\n';
    EmitNode(out, value, explicit_key ? indent + 2 : indent);
  } else {
    out += ' ';
    if (IsEmptyContainer(value)) {
      out += value.is_object() ? "{}" : "[]";
    } else {
      AppendScalar(out, value);
    }
    out += '\n';
  }
}

void EmitNode(std::string& out, const nlohmann::json& value, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      out += pad;
      EmitKeyValue(out, key, item, indent);
    }
  } else if (value.is_array()) {
    for (const auto& item : value) {
      out += pad;
      out += "- ";
      if (item.is_object() && !item.empty()) {
        // First key shares the dash's line; the rest align under it.
        bool first = true;
        for (const auto& [key, field] : item.items()) {
          if (!first) out += std::string(static_cast<std::size_t>(indent + 2), ' ');
          first = false;
          EmitKeyValue(out, key, field, indent + 2);
        }
      } else if (item.is_array() && !item.empty()) {
        out += '\n';
        EmitNode(out, item, indent + 2);
      } else {
        if (IsEmptyContainer(item)) {
          out += item.is_object() ? "{}" : "[]";
        } else {
          AppendScalar(out, item);
        }
        out += '\n';
      }
    }
  } else {
    out += pad;
    AppendScalar(out, value);
    out += '\n';
  }
}

}  // namespace

bool IsPlainYamlSafe(std::string_view s) {
  if (s.empty()) return false;
  if (std::isspace(static_cast<unsigned char>(s.front())) ||
      std::isspace(static_cast<unsigned char>(s.back()))) {
    return false;
  }
  static constexpr std::string_view kLeadingIndicators = "-?:,[]{}#&*!|>'\"%@`";
  if (kLeadingIndicators.find(s.front()) != std::string_view::npos) {
    // "-" followed by a non-space is fine in YAML, but keep it simple and safe
    // except for the common negative-looking identifiers which we quote anyway.
    return false;
  }
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return false;
  }
  if (!IsValidUtf8(s) || HasYamlSpecialCharacter(s)) return false;
  if (s.find(':') != std::string_view::npos || s.find(" #") != std::string_view::npos) {
    return false;
  }
  if (s.find_first_of(",[]{}") != std::string_view::npos) return false;
  if (IsYaml11Keyword(s)) return false;
  if (IsIpLike(s)) return true;
  if (LooksLikeNumberOrDate(s)) return false;
  return true;
}

Result<std::vector<nlohmann::json>> ParseYamlDocuments(std::string_view text) {
  try {
    std::vector<nlohmann::json> documents;
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    JsonDocumentBuilder builder(documents);
    while (parser.HandleNextDocument(builder)) {
    }
    return documents;
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidInput,
                     "YAML error at line " + std::to_string(e.mark.line + 1) + ", column " +
                         std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kInvalidInput, std::string("YAML error: ") + e.what());
  }
}

std::string EmitYaml(const nlohmann::json& value) {
  std::string out;
  if (IsEmptyContainer(value)) return value.is_object() ? "{}\n" : "[]\n";
  EmitNode(out, value, 0);
  return out;
}

}  // namespace globalsvc
