#pragma once

// Where the daemon's parts report problems on objects of the local cluster:
// the seam between deciding that something deserves an Event and recording
// it. EventRecorder writes events.k8s.io Events; unit tests keep them in
// memory.

#include <string>

namespace globalsvc::controller {

struct EventTarget {
  std::string api_version = "v1";
  std::string kind;
  std::string namespace_name;
  std::string name;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Warning(const EventTarget& target, const std::string& reason,
                       const std::string& message) = 0;
  virtual void Normal(const EventTarget& target, const std::string& reason,
                      const std::string& message) = 0;
};

}  // namespace globalsvc::controller
