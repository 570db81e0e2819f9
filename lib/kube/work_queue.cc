#include "lib/kube/work_queue.h"

namespace globalsvc::kube {

WorkQueue::WorkQueue(Clock& clock, BackoffPolicy retry_backoff)
    : clock_(clock), retry_backoff_(retry_backoff) {}

WorkQueue::~WorkQueue() {
  ShutDown();
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_ || dirty_.contains(key)) return;
  dirty_.insert(key);
  if (processing_.contains(key)) return;  // queued again by Done()
  queue_.push_back(key);
  ready_cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mutex_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, Clock::Duration delay) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  if (delay <= Clock::Duration::zero()) {
    AddLocked(key);
    return;
  }
  const auto when = clock_.Now() + delay;
  const auto existing = delayed_until_.find(key);
  if (existing != delayed_until_.end()) {
    if (existing->second <= when) return;  // the earlier time wins
    for (auto [it, end] = delayed_.equal_range(existing->second); it != end; ++it) {
      if (it->second == key) {
        delayed_.erase(it);
        break;
      }
    }
  }
  delayed_.emplace(when, key);
  delayed_until_[key] = when;
  ready_cv_.notify_all();  // a waiter may need an earlier wake-up
}

void WorkQueue::AddRateLimited(const std::string& key) {
  int failures = 0;
  {
    std::lock_guard lock(mutex_);
    failures = failures_[key]++;
  }
  AddAfter(key, ExponentialDelay(retry_backoff_, failures));
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

int WorkQueue::Failures(const std::string& key) const {
  std::lock_guard lock(mutex_);
  const auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteDueLocked() {
  const auto now = clock_.Now();
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    const std::string key = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    delayed_until_.erase(key);
    AddLocked(key);
  }
}

std::optional<std::string> WorkQueue::PopLocked() {
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  return key;
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (shutting_down_) return std::nullopt;
    PromoteDueLocked();
    if (auto key = PopLocked()) return key;
    const auto deadline =
        delayed_.empty() ? clock_.Now() + std::chrono::hours(1) : delayed_.begin()->first;
    clock_.WaitUntil(ready_cv_, lock, deadline);
  }
}

std::optional<std::string> WorkQueue::TryGet() {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return std::nullopt;
  PromoteDueLocked();
  return PopLocked();
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mutex_);
  processing_.erase(key);
  if (dirty_.contains(key) && !shutting_down_) {
    queue_.push_back(key);
    ready_cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
  queue_.clear();
  dirty_.clear();
  delayed_.clear();
  delayed_until_.clear();
  ready_cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mutex_);
  return shutting_down_;
}

std::size_t WorkQueue::ready_count() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t WorkQueue::delayed_count() const {
  std::lock_guard lock(mutex_);
  return delayed_.size();
}

}  // namespace globalsvc::kube
