#pragma once

// Client-side token bucket (QPS with a burst), as every well-behaved API client
// has, so a relist storm cannot flood an API server.

#include <condition_variable>
#include <mutex>

#include "lib/kube/clock.h"

namespace globalsvc::kube {

class RateLimiter {
 public:
  // qps <= 0 disables limiting.
  RateLimiter(double qps, int burst, Clock& clock);

  // Takes one token, waiting for it if the bucket is empty.
  void Acquire();
  // Takes one token if one is available now.
  [[nodiscard]] bool TryAcquire();

 private:
  void RefillLocked();

  const double qps_;
  const double burst_;
  Clock& clock_;
  std::mutex mutex_;
  std::condition_variable cv_;
  double tokens_;
  Clock::TimePoint last_refill_;
};

}  // namespace globalsvc::kube
