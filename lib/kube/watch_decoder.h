#pragma once

// Incremental decoder of a watch response body: newline-delimited JSON
// WatchEvents arriving in arbitrary chunks (one event may span many chunks,
// one chunk may hold many events).

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace globalsvc::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

[[nodiscard]] const char* WatchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  // The object; for kError a metav1.Status.
  nlohmann::json object;
};

class WatchDecoder {
 public:
  // Returns false to stop decoding.
  using EventHandler = std::function<bool(WatchEvent&& event)>;

  // Decodes every complete event in the bytes seen so far. Returns false when
  // the handler asked to stop; an error for a malformed event (the stream can
  // no longer be trusted and must be restarted).
  [[nodiscard]] Result<bool> Feed(std::string_view bytes, const EventHandler& on_event);

  // Bytes of an event not yet complete.
  [[nodiscard]] std::size_t pending_bytes() const { return buffer_.size() - consumed_; }

  // Upper bound for one event, so a broken stream cannot exhaust memory.
  static constexpr std::size_t kMaxEventBytes = 64u << 20;

 private:
  Result<bool> DecodeLine(std::string_view line, const EventHandler& on_event);

  std::string buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ already decoded
  std::size_t scanned_ = 0;   // bytes of buffer_ known to hold no newline
};

// Decodes one event: {"type": "...", "object": {...}}.
[[nodiscard]] Result<WatchEvent> DecodeWatchEvent(std::string_view json_text);

}  // namespace globalsvc::kube
