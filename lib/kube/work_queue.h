#pragma once

// A de-duplicating work queue of keys (e.g. "<namespace>/<service>"), as
// controllers use between caches and reconcilers:
// - a key waiting to be processed is queued once however often it is added;
// - a key is never handed to two workers at once: added while being
//   processed, it is queued again only when the worker calls Done();
// - AddAfter() delays a key; AddRateLimited() delays it by its own exponential
//   backoff (initial * factor^failures, capped), which Forget() resets;
// - ShutDown() wakes every waiting Get(), which then returns nothing; keys
//   still queued are dropped.
// Thread-safe; Get() blocks.

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "lib/kube/backoff.h"
#include "lib/kube/clock.h"

namespace globalsvc::kube {

class WorkQueue {
 public:
  explicit WorkQueue(Clock& clock = SystemClock::Instance(),
                     BackoffPolicy retry_backoff = {std::chrono::milliseconds(200),
                                                    std::chrono::milliseconds(300'000), 2.0, 0.0});
  ~WorkQueue();

  void Add(const std::string& key);
  void AddAfter(const std::string& key, Clock::Duration delay);
  void AddRateLimited(const std::string& key);
  // The key succeeded: its next failure starts from the initial delay.
  void Forget(const std::string& key);
  [[nodiscard]] int Failures(const std::string& key) const;

  // The next ready key, blocking until there is one; nullopt after ShutDown().
  [[nodiscard]] std::optional<std::string> Get();
  // The next ready key if there is one now.
  [[nodiscard]] std::optional<std::string> TryGet();
  // Must follow every key returned by Get()/TryGet().
  void Done(const std::string& key);

  void ShutDown();
  [[nodiscard]] bool shutting_down() const;
  // Keys ready to be handed out now (not counting delayed ones).
  [[nodiscard]] std::size_t ready_count() const;
  [[nodiscard]] std::size_t delayed_count() const;

 private:
  void AddLocked(const std::string& key);
  void PromoteDueLocked();
  std::optional<std::string> PopLocked();

  Clock& clock_;
  const BackoffPolicy retry_backoff_;
  mutable std::mutex mutex_;
  std::condition_variable ready_cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // queued or re-added while processing
  std::unordered_set<std::string> processing_;  // handed out, Done() not yet called
  std::multimap<Clock::TimePoint, std::string> delayed_;
  std::unordered_map<std::string, Clock::TimePoint> delayed_until_;
  std::unordered_map<std::string, int> failures_;
  bool shutting_down_ = false;
};

}  // namespace globalsvc::kube
