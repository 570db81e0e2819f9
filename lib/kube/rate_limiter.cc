#include "lib/kube/rate_limiter.h"

#include <algorithm>

namespace globalsvc::kube {

RateLimiter::RateLimiter(double qps, int burst, Clock& clock)
    : qps_(qps),
      burst_(static_cast<double>(std::max(burst, 1))),
      clock_(clock),
      tokens_(burst_),
      last_refill_(clock.Now()) {}

void RateLimiter::RefillLocked() {
  const auto now = clock_.Now();
  const std::chrono::duration<double> elapsed = now - last_refill_;
  last_refill_ = now;
  tokens_ = std::min(burst_, tokens_ + elapsed.count() * qps_);
}

bool RateLimiter::TryAcquire() {
  if (qps_ <= 0) return true;
  std::lock_guard lock(mutex_);
  RefillLocked();
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

void RateLimiter::Acquire() {
  if (qps_ <= 0) return;
  std::unique_lock lock(mutex_);
  for (;;) {
    RefillLocked();
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return;
    }
    const auto wait = std::chrono::duration<double>((1.0 - tokens_) / qps_);
    clock_.WaitUntil(cv_, lock, clock_.Now() + std::chrono::duration_cast<Clock::Duration>(wait));
  }
}

}  // namespace globalsvc::kube
