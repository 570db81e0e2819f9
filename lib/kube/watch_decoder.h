#pragma once

// Incremental decoder of a watch response body: newline-delimited JSON
// WatchEvents arriving in arbitrary chunks (one event may span many chunks,
// one chunk may hold many events).

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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
  // metadata.managedFields is dropped by default: nothing in a controller
  // reads it and it is often the largest part of an object. Cutting it from
  // the text before parsing keeps it out of the parsed tree, which lowers
  // the heap peak of an event 1.6-1.9 times at about the same CPU
  // (bench_json). (An object without managedFields written back with PUT
  // keeps the server's managed fields.)
  explicit WatchDecoder(bool drop_managed_fields = true)
      : drop_managed_fields_(drop_managed_fields) {}

  // Returns false to stop decoding.
  using EventHandler = std::function<bool(WatchEvent&& event)>;

  // Decodes every complete event in the bytes seen so far. Returns false when
  // the handler asked to stop; an error for a malformed event (the stream can
  // no longer be trusted and must be restarted).
  [[nodiscard]] Result<bool> Feed(std::string_view bytes, const EventHandler& on_event);

  // Bytes of an event not yet complete.
  [[nodiscard]] std::size_t pending_bytes() const { return buffer_.size() - consumed_; }

  // Upper bound for one event, so a broken stream cannot exhaust memory: an
  // object is at most about 1.5 MiB in etcd, and parsing takes many times
  // the text size.
  static constexpr std::size_t kMaxEventBytes = 8u << 20;

 private:
  Result<bool> DecodeLine(std::string_view line, const EventHandler& on_event);

  bool drop_managed_fields_;
  std::string stripped_;  // scratch for an event without managedFields
  std::string buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ already decoded
  std::size_t scanned_ = 0;   // bytes of buffer_ known to hold no newline
};

// The span of `"managedFields":[...]` in an event's object.metadata, with one
// separating comma, so that removing it leaves valid JSON; nullopt if absent.
[[nodiscard]] std::optional<std::pair<std::size_t, std::size_t>> FindManagedFields(
    std::string_view event_json);

// Decodes one event: {"type": "...", "object": {...}}.
[[nodiscard]] Result<WatchEvent> DecodeWatchEvent(std::string_view json_text);

}  // namespace globalsvc::kube
