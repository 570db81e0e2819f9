#include "lib/kube/watch_decoder.h"

#include <cstring>

#include "lib/kube/json_parser.h"

namespace globalsvc::kube {

const char* WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

namespace {

// Finds the end (one past) of the JSON array or object starting at `begin`,
// skipping strings; npos if it does not end in `text`.
std::size_t SkipComposite(std::string_view text, std::size_t begin) {
  int depth = 0;
  for (std::size_t i = begin; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<std::pair<std::size_t, std::size_t>> FindManagedFields(std::string_view text) {
  constexpr std::string_view kKey = "\"managedFields\":[";
  const std::size_t at = text.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  // Confirm the match is the key of object.metadata, not text inside a
  // string or a field of the same name elsewhere: walk the prefix, tracking
  // depth and the keys that opened depths 1 and 2.
  int depth = 0;
  std::string_view last_string;
  std::string_view keys[3];
  for (std::size_t i = 0; i < at; ++i) {
    const char c = text[i];
    if (c == '"') {
      const std::size_t start = i + 1;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
      if (i >= at) return std::nullopt;  // the match is inside a string
      last_string = text.substr(start, i - start);
    } else if (c == ':') {
      if (depth >= 1 && depth <= 2) keys[depth] = last_string;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  if (depth != 3 || keys[1] != "object" || keys[2] != "metadata") return std::nullopt;
  const std::size_t end = SkipComposite(text, at + kKey.size() - 1);
  if (end == std::string_view::npos) return std::nullopt;
  // Take one neighbouring comma along, across any JSON whitespace.
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t begin = at;
  std::size_t stop = end;
  std::size_t before = at;
  while (before > 0 && is_space(text[before - 1]))
    --before;
  std::size_t after = end;
  while (after < text.size() && is_space(text[after]))
    ++after;
  if (before > 0 && text[before - 1] == ',') {
    begin = before - 1;
  } else if (after < text.size() && text[after] == ',') {
    stop = after + 1;
  }
  return std::pair{begin, stop};
}

Result<WatchEvent> DecodeWatchEvent(std::string_view json_text) {
  auto parsed = ParseJson(json_text);
  if (!parsed || !parsed->is_object()) {
    return MakeError(ErrorCode::kUnavailable, "watch stream: an event is not valid JSON");
  }
  nlohmann::json& doc = *parsed;
  const auto type = doc.find("type");
  const auto object = doc.find("object");
  if (type == doc.end() || !type->is_string() || object == doc.end() || !object->is_object()) {
    return MakeError(ErrorCode::kUnavailable, "watch stream: an event lacks type or object");
  }
  WatchEvent event;
  const auto& name = type->get_ref<const std::string&>();
  if (name == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (name == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (name == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else if (name == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
  } else if (name == "ERROR") {
    event.type = WatchEventType::kError;
  } else {
    return MakeError(ErrorCode::kUnavailable, "watch stream: unknown event type " + name);
  }
  event.object = std::move(*object);
  return event;
}

Result<bool> WatchDecoder::DecodeLine(std::string_view line, const EventHandler& on_event) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
    line.remove_suffix(1);
  if (line.empty()) return true;
  if (drop_managed_fields_) {
    if (const auto span = FindManagedFields(line)) {
      stripped_.assign(line.substr(0, span->first));
      stripped_.append(line.substr(span->second));
      line = stripped_;
    }
  }
  auto event = DecodeWatchEvent(line);
  if (!event.ok()) return event.error();
  return on_event(std::move(*event));
}

Result<bool> WatchDecoder::Feed(std::string_view bytes, const EventHandler& on_event) {
  // Whole events inside this chunk decode straight from it, without copying,
  // when nothing is pending from earlier chunks.
  if (pending_bytes() == 0) {
    buffer_.clear();
    consumed_ = scanned_ = 0;
    while (true) {
      const void* found = std::memchr(bytes.data(), '\n', bytes.size());
      if (found == nullptr) break;
      const auto length = static_cast<std::size_t>(static_cast<const char*>(found) - bytes.data());
      auto keep_going = DecodeLine(bytes.substr(0, length), on_event);
      if (!keep_going.ok() || !*keep_going) return keep_going;
      bytes.remove_prefix(length + 1);
    }
  }
  buffer_.append(bytes);
  while (true) {
    const std::size_t from = std::max(consumed_, scanned_);
    const std::size_t newline = buffer_.find('\n', from);
    if (newline == std::string::npos) {
      scanned_ = buffer_.size();
      break;
    }
    auto keep_going =
        DecodeLine(std::string_view(buffer_).substr(consumed_, newline - consumed_), on_event);
    consumed_ = newline + 1;
    if (!keep_going.ok() || !*keep_going) return keep_going;
  }
  if (pending_bytes() > kMaxEventBytes) {
    return MakeError(ErrorCode::kUnavailable, "watch stream: an event exceeds 64 MiB");
  }
  // Drop decoded bytes once they dominate the buffer, keeping appends cheap.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    scanned_ -= std::min(scanned_, consumed_);
    consumed_ = 0;
  }
  return true;
}

}  // namespace globalsvc::kube
