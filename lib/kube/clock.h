#pragma once

// Time as the kube machinery sees it. Everything that waits or measures time
// takes a Clock so tests can drive time by hand instead of sleeping.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>

namespace globalsvc::kube {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;

  // Monotonic time, for deadlines and backoff.
  [[nodiscard]] virtual TimePoint Now() const = 0;
  // Wall time, for timestamps written to the API (Lease renewTime).
  [[nodiscard]] virtual std::chrono::system_clock::time_point WallNow() const = 0;

  // Waits on `cv` (whose mutex `lock` holds) until notified or until `deadline`
  // has passed on this clock. May return early; callers re-check their state.
  virtual void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         TimePoint deadline) = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  [[nodiscard]] std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::now();
  }
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 TimePoint deadline) override {
    cv.wait_until(lock, deadline);
  }

  // One process-wide instance; it has no state.
  static SystemClock& Instance();
};

// A clock that moves only when told. Waiters wake when Advance() passes their
// deadline (and at least every few milliseconds of real time, so a waiter that
// raced with Advance() never hangs).
class ManualClock final : public Clock {
 public:
  ManualClock();

  [[nodiscard]] TimePoint Now() const override;
  [[nodiscard]] std::chrono::system_clock::time_point WallNow() const override;
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 TimePoint deadline) override;

  void Advance(Duration by);

 private:
  mutable std::mutex mutex_;
  TimePoint now_;
  std::chrono::system_clock::time_point wall_now_;
  std::set<std::condition_variable*> waiters_;
};

}  // namespace globalsvc::kube
