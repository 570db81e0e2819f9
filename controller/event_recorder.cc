#include "controller/event_recorder.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <ctime>

#include "lib/base/rfc3339.h"
#include "lib/base/utf8.h"
#include "lib/observability/logging.h"

namespace globalsvc::controller {
namespace {

std::string UniqueName(const std::string& object, std::chrono::system_clock::time_point time) {
  static std::atomic<std::uint32_t> sequence{0};
  char suffix[40];
  std::snprintf(suffix, sizeof(suffix), ".%llx%04x",
                static_cast<unsigned long long>(time.time_since_epoch().count()),
                static_cast<unsigned>(sequence.fetch_add(1) & 0xffff));
  return object + suffix;
}

// The API server limits an Event's note to 1 KiB and its reason to 128
// characters. The text may quote user input (annotations, error pages): it is
// made valid UTF-8 and cut on a character boundary, never mid-character.
constexpr std::size_t kMaxNoteBytes = 1000;
constexpr std::size_t kMaxReasonBytes = 128;

}  // namespace

EventRecorder::EventRecorder(kube::ObjectApi& client, std::string reporting_instance,
                             std::function<bool()> may_record, kube::Clock& clock,
                             std::chrono::seconds repeat_after)
    : client_(client),
      reporting_instance_(std::move(reporting_instance)),
      may_record_(std::move(may_record)),
      clock_(clock),
      repeat_after_(repeat_after),
      log_(obs::ComponentLogger("events")) {}

void EventRecorder::Warning(const EventTarget& target, const std::string& reason,
                            const std::string& message) {
  Record(target, "Warning", reason, message);
}

void EventRecorder::Normal(const EventTarget& target, const std::string& reason,
                           const std::string& message) {
  Record(target, "Normal", reason, message);
}

void EventRecorder::Record(const EventTarget& target, const char* type, const std::string& reason,
                           const std::string& message) {
  if (may_record_ && !may_record_()) return;  // a standby: the leader records it
  const auto now = clock_.Now();
  {
    std::lock_guard lock(mutex_);
    auto key =
        std::make_tuple(target.kind, target.namespace_name + "/" + target.name, reason, message);
    auto it = last_recorded_.find(key);
    if (it != last_recorded_.end() && now - it->second < repeat_after_) return;
    last_recorded_[key] = now;
    // Forget old entries so the map stays as small as the set of live problems.
    for (auto old = last_recorded_.begin(); old != last_recorded_.end();) {
      old = now - old->second >= repeat_after_ ? last_recorded_.erase(old) : std::next(old);
    }
  }
  const std::string ns = target.namespace_name.empty() ? "default" : target.namespace_name;
  nlohmann::json event = {
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      // Named like other controllers' events: object name and a unique suffix.
      {"metadata", {{"name", UniqueName(target.name, clock_.WallNow())}, {"namespace", ns}}},
      // RFC 3339 with microseconds, as events.k8s.io/v1 requires.
      {"eventTime", FormatMicroTime(clock_.WallNow())},
      {"reportingController", "solo.io/globalsvc"},
      {"reportingInstance", reporting_instance_},
      {"action", "Reconcile"},
      {"reason", ShortUtf8(reason, kMaxReasonBytes)},
      {"note", ShortUtf8(message, kMaxNoteBytes)},
      {"type", type},
      {"regarding",
       {{"apiVersion", target.api_version},
        {"kind", target.kind},
        {"name", target.name},
        {"namespace", target.namespace_name}}},
  };
  auto created = client_.Create(kube::resources::Events(), ns, event);
  if (!created.ok()) {
    log_.Warn("event not recorded", {{"kind", target.kind},
                                     {"object", target.namespace_name + "/" + target.name},
                                     {"reason", reason},
                                     {"error", created.error().message}});
  }
}

}  // namespace globalsvc::controller
