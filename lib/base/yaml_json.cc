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
#include "lib/base/yaml_scalar.h"

namespace globalsvc {
namespace {

using yaml_scalar::ResolvePlainScalar;

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

}  // namespace

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

}  // namespace globalsvc
