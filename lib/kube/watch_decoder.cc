#include "lib/kube/watch_decoder.h"

#include <cstring>

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

Result<WatchEvent> DecodeWatchEvent(std::string_view json_text) {
  auto doc = nlohmann::json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return MakeError(ErrorCode::kUnavailable, "watch stream: an event is not valid JSON");
  }
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
