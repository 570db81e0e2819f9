#pragma once

// The controller's EventSink kept in memory, for unit tests that check which
// Events a part reports.

#include <string>
#include <vector>

#include "controller/event_sink.h"

namespace globalsvc::controller::testing {

struct RecordedEvent {
  std::string type;
  std::string object;  // kind/namespace/name
  std::string reason;
  std::string message;
};

class MemoryEventSink final : public EventSink {
 public:
  void Warning(const EventTarget& target, const std::string& reason,
               const std::string& message) override {
    Record("Warning", target, reason, message);
  }
  void Normal(const EventTarget& target, const std::string& reason,
              const std::string& message) override {
    Record("Normal", target, reason, message);
  }
  [[nodiscard]] std::vector<std::string> Reasons() const {
    std::vector<std::string> out;
    for (const auto& event : events)
      out.push_back(event.reason);
    return out;
  }

  std::vector<RecordedEvent> events;

 private:
  void Record(const char* type, const EventTarget& target, const std::string& reason,
              const std::string& message) {
    events.push_back(
        {type, target.kind + "/" + target.namespace_name + "/" + target.name, reason, message});
  }
};

}  // namespace globalsvc::controller::testing
