#pragma once

// Kubernetes Events (events.k8s.io/v1) on objects of the local cluster, so problems
// show in `kubectl describe`. The same (object, reason, message) is recorded at
// most once per `repeat_after`, so a problem that persists does not flood the
// API server. Recording never fails the caller: errors are logged. Only the
// replica that may write (the leader) records: every replica sees the same
// problems, and users expect one Event per problem.
//
// Threads: any; one mutex guards the de-duplication map.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "controller/event_sink.h"
#include "lib/base/log.h"
#include "lib/kube/clock.h"
#include "lib/kube/object_api.h"

namespace globalsvc::controller {

class EventRecorder final : public EventSink {
 public:
  EventRecorder(kube::ObjectApi& client, std::string reporting_instance,
                std::function<bool()> may_record,
                kube::Clock& clock = kube::SystemClock::Instance(),
                std::chrono::seconds repeat_after = std::chrono::minutes(10));

  void Warning(const EventTarget& target, const std::string& reason,
               const std::string& message) override;
  void Normal(const EventTarget& target, const std::string& reason,
              const std::string& message) override;

 private:
  void Record(const EventTarget& target, const char* type, const std::string& reason,
              const std::string& message);

  kube::ObjectApi& client_;
  const std::string reporting_instance_;
  const std::function<bool()> may_record_;
  kube::Clock& clock_;
  const std::chrono::seconds repeat_after_;
  Logger log_;
  std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, kube::Clock::TimePoint>
      last_recorded_;
};

}  // namespace globalsvc::controller
