#include "lib/kube/clock.h"

namespace globalsvc::kube {

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

ManualClock::ManualClock()
    : now_(TimePoint{} + std::chrono::hours(1000)),
      wall_now_(std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 50)) {}

Clock::TimePoint ManualClock::Now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

std::chrono::system_clock::time_point ManualClock::WallNow() const {
  std::lock_guard lock(mutex_);
  return wall_now_;
}

void ManualClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                            TimePoint deadline) {
  {
    std::lock_guard guard(mutex_);
    if (now_ >= deadline) return;
    waiters_.insert(&cv);
  }
  cv.wait_for(lock, std::chrono::milliseconds(5));
  std::lock_guard guard(mutex_);
  waiters_.erase(&cv);
}

void ManualClock::Advance(Duration by) {
  std::lock_guard guard(mutex_);
  now_ += by;
  wall_now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
  for (auto* cv : waiters_)
    cv->notify_all();
}

}  // namespace globalsvc::kube
