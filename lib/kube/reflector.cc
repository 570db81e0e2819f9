#include "lib/kube/reflector.h"

#include "lib/base/guard.h"
#include "lib/base/memory.h"
#include "lib/kube/logger.h"

namespace globalsvc::kube {

Reflector::Reflector(KubeClient& client, ResourceType type, ReflectorSink& sink,
                     ReflectorOptions options, Clock& clock)
    : client_(client),
      type_(std::move(type)),
      sink_(sink),
      options_(std::move(options)),
      clock_(clock),
      backoff_(options_.backoff, options_.random_seed),
      random_(options_.random_seed ^ 0x9e3779b97f4a7c15ull),
      resource_version_(options_.resume_from) {}

Reflector::~Reflector() {
  Stop();
}

void Reflector::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void Reflector::Stop() {
  if (!thread_.joinable()) return;
  RequestStop();
  thread_.join();
}

void Reflector::RequestStop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  // Under the lock: a Wait() between its stop check and its sleep still
  // gets this notification.
  std::lock_guard lock(mutex_);
  wake_.notify_all();
}

void Reflector::Relist() {
  std::lock_guard lock(mutex_);
  relist_requested_ = true;
  if (watch_stop_ != nullptr) watch_stop_->request_stop();
}

std::string Reflector::resource_version() const {
  std::lock_guard lock(mutex_);
  return resource_version_;
}

ReflectorStats Reflector::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::string Reflector::description() const {
  return "cluster " + client_.cluster_name() + " " + type_.plural +
         (options_.namespace_name.empty() ? "" : " in namespace " + options_.namespace_name);
}

LogFields Reflector::LogContext() const {
  LogFields fields{{"cluster", client_.cluster_name()}, {"resource", type_.plural}};
  if (!options_.namespace_name.empty()) fields.Add({"namespace", options_.namespace_name});
  return fields;
}

bool Reflector::Healthy() const {
  std::lock_guard lock(mutex_);
  return stats_.last_error.empty();
}

void Reflector::RecordError(const Error& error) {
  std::lock_guard lock(mutex_);
  ++stats_.errors;
  stats_.last_error = error.message;
}

void Reflector::Wait(std::stop_token stop, std::chrono::milliseconds delay) {
  const auto deadline = clock_.Now() + delay;
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested() && clock_.Now() < deadline) {
    clock_.WaitUntil(wake_, lock, deadline);
  }
}

Status Reflector::ListAndReplace() {
  sink_.BeginReplace();
  Result<KubeClient::ListSummary> listed = MakeError(ErrorCode::kInternal, "not listed");
  const bool ran = RunGuarded("reflector list " + type_.plural, [&] {
    listed =
        client_.ListEach(type_, options_.namespace_name, options_.list,
                         [this](nlohmann::json&& item) { sink_.ReplaceItem(std::move(item)); });
  });
  if (!ran) {
    listed = MakeError(ErrorCode::kInternal,
                       description() + ": an item could not be handled (internal error)");
  }
  if (!listed.ok()) {
    sink_.AbortReplace();
    ReturnFreedMemory();  // a refused answer may have been large: give it back
    return listed.error();
  }
  {
    // Known before the sink reports the list, so whoever sees the cache
    // synced (or a change of it) also sees the version it was listed at and
    // the list counted.
    std::lock_guard lock(mutex_);
    resource_version_ = listed->resource_version;
    last_list_ = clock_.Now();
    ++stats_.lists;
    stats_.last_error.clear();
  }
  sink_.EndReplace();
  // A list parses pages of hundreds of objects and keeps a few bytes of each:
  // glibc keeps the freed pages (about twice the cache's own size) resident
  // until told otherwise. Lists are rare (start, reconnect, 410 Gone).
  ReturnFreedMemory();
  return Ok{};
}

void Reflector::HoldNothing() {
  sink_.BeginReplace();
  {
    std::lock_guard lock(mutex_);
    last_list_ = clock_.Now();
    ++stats_.lists;
    stats_.last_error.clear();
  }
  sink_.EndReplace();
}

Status Reflector::WatchOnce(std::stop_token stop, bool& made_progress) {
  WatchOptions watch;
  watch.resource_version = resource_version();
  watch.label_selector = options_.list.label_selector;
  watch.field_selector = options_.list.field_selector;
  watch.allow_bookmarks = true;
  {
    std::uniform_int_distribution<std::int64_t> extra(
        0, std::max<std::int64_t>(options_.watch_timeout.count() - 1, 0));
    std::lock_guard lock(mutex_);
    watch.timeout = options_.watch_timeout + std::chrono::seconds(extra(random_));
    ++stats_.watches;
  }
  // The watch ends when the thread stops or a relist is asked for.
  std::stop_source watch_stop;
  const std::stop_callback stop_watch(stop, [&watch_stop] { watch_stop.request_stop(); });
  {
    std::lock_guard lock(mutex_);
    if (relist_requested_) return Ok{};
    watch_stop_ = &watch_stop;
  }
  Status watched = Ok{};
  const bool ran = RunGuarded("reflector watch " + type_.plural, [&] {
    watched = WatchStream(watch, watch_stop.get_token(), made_progress);
  });
  {
    std::lock_guard lock(mutex_);
    watch_stop_ = nullptr;
  }
  if (!ran) {
    // The sink may hold half of an event: start over from a fresh list.
    std::lock_guard lock(mutex_);
    resource_version_.clear();
    return MakeError(ErrorCode::kInternal,
                     description() + ": an event could not be handled (internal error)");
  }
  return watched;
}

Status Reflector::WatchStream(const WatchOptions& watch, std::stop_token stop,
                              bool& made_progress) {
  return client_.Watch(
      type_, options_.namespace_name, watch,
      [&](WatchEvent&& event) {
        std::string version = ResourceVersionOf(event.object);
        if (event.type != WatchEventType::kBookmark) {
          sink_.ApplyEvent(event.type, std::move(event.object));
        }
        std::lock_guard lock(mutex_);
        if (event.type == WatchEventType::kBookmark) {
          ++stats_.bookmarks;
        } else {
          ++stats_.events;
        }
        if (!version.empty()) resource_version_ = std::move(version);
        made_progress = true;
        return !stop.stop_requested();
      },
      stop);
}

bool Reflector::RelistRequested() const {
  std::lock_guard lock(mutex_);
  return relist_requested_;
}

bool Reflector::TakeRelistRequest(std::stop_token stop) {
  Clock::TimePoint due;
  {
    std::lock_guard lock(mutex_);
    if (!relist_requested_) return false;
    due = last_list_ + options_.min_relist_interval;
  }
  if (clock_.Now() < due) {
    Wait(stop, std::chrono::duration_cast<std::chrono::milliseconds>(due - clock_.Now()));
  }
  std::lock_guard lock(mutex_);
  relist_requested_ = false;
  resource_version_.clear();
  ++stats_.requested_relists;
  return true;
}

void Reflector::Run(std::stop_token stop) {
  // The thread's root: whatever escapes the loop is reported, and the loop
  // starts over from a fresh list after a backoff.
  while (!RunGuarded("reflector " + type_.plural, [&] { RunLoop(stop); })) {
    {
      std::lock_guard lock(mutex_);
      resource_version_.clear();
    }
    Wait(stop, backoff_.Next());
  }
}

void Reflector::RunLoop(std::stop_token stop) {
  Log().Info("reflector started", LogContext());
  while (!stop.stop_requested()) {
    if (TakeRelistRequest(stop)) {
      if (stop.stop_requested()) break;
      Log().Info("relist requested", LogContext());
    }
    if (resource_version().empty() && !ListOrWait(stop)) continue;
    if (!Healthy() && !ProbeOrWait(stop)) continue;
    WatchUntilItEnds(stop);
  }
  Log().Info("reflector stopped", LogContext());
}

bool Reflector::ListOrWait(std::stop_token stop) {
  auto listed = ListAndReplace();
  if (stop.stop_requested()) return false;
  if (!listed.ok() && listed.error().code == ErrorCode::kNotFound &&
      options_.absent_relist_interval.count() > 0) {
    HoldNothing();
    Log().Info("resource absent",
               LogContext().Add({"retry_in_s", options_.absent_relist_interval.count()}));
    Wait(stop, options_.absent_relist_interval);
    return false;
  }
  if (!listed.ok()) {
    RecordError(listed.error());
    const auto delay = std::max(backoff_.Next(), listed.error().retry_after);
    Log().Warn("list failed", LogContext()
                                  .Add({"code", ErrorCodeName(listed.error().code)})
                                  .Add({"retry_in_ms", delay.count()})
                                  .Add({"error", listed.error().message}));
    Wait(stop, delay);
    return false;
  }
  Log().Info("listed", LogContext().Add({"resource_version", resource_version()}));
  return true;
}

bool Reflector::ProbeOrWait(std::stop_token stop) {
  // After a failure, a watch that reconnects says nothing until the next
  // change, so ask the server once (a one-item list) to know it answers
  // again: that is when this reflector counts as healthy.
  ListOptions probe = options_.list;
  probe.limit = 1;
  probe.first_page_only = true;
  auto answered = client_.List(type_, options_.namespace_name, probe);
  if (stop.stop_requested()) return false;
  if (!answered.ok()) {
    RecordError(answered.error());
    Wait(stop, std::max(backoff_.Next(), answered.error().retry_after));
    return false;
  }
  std::lock_guard lock(mutex_);
  stats_.last_error.clear();
  return true;
}

void Reflector::WatchUntilItEnds(std::stop_token stop) {
  bool made_progress = false;
  const auto started = clock_.Now();
  auto watched = WatchOnce(stop, made_progress);
  if (stop.stop_requested()) return;
  if (RelistRequested()) return;  // a watch ended for it is no failure
  if (watched.ok()) {
    // The server ended the watch at its timeout: continue from the last
    // version. A watch that ends at once without news backs off, so a
    // misbehaving server cannot make this loop spin.
    if (made_progress || clock_.Now() - started >= std::chrono::seconds(1)) {
      backoff_.Reset();
    } else {
      Wait(stop, backoff_.Next());
    }
    return;
  }
  const Error& error = watched.error();
  if (error.code == ErrorCode::kGone) {
    Log().Info("watch gone, relisting", LogContext().Add({"resource_version", resource_version()}));
    std::lock_guard lock(mutex_);
    resource_version_.clear();
    ++stats_.gone_relists;
    return;
  }
  RecordError(error);
  if (made_progress) backoff_.Reset();
  const auto delay = std::max(backoff_.Next(), error.retry_after);
  Log().Warn("watch failed", LogContext()
                                 .Add({"code", ErrorCodeName(error.code)})
                                 .Add({"retry_in_ms", delay.count()})
                                 .Add({"error", error.message}));
  Wait(stop, delay);
}

}  // namespace globalsvc::kube
