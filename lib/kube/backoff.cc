#include "lib/kube/backoff.h"

#include <algorithm>
#include <cmath>

namespace globalsvc::kube {

std::chrono::milliseconds ExponentialDelay(const BackoffPolicy& policy, int attempts) {
  const double base = static_cast<double>(policy.initial.count()) *
                      std::pow(policy.factor, static_cast<double>(std::max(attempts, 0)));
  const double capped = std::min(base, static_cast<double>(policy.max.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(capped));
}

Backoff::Backoff(BackoffPolicy policy, std::uint64_t seed) : policy_(policy), random_(seed) {}

std::chrono::milliseconds Backoff::Next() {
  const auto delay = ExponentialDelay(policy_, attempts_);
  if (attempts_ < 64) ++attempts_;
  const double jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  std::uniform_real_distribution<double> fraction(1.0 - jitter, 1.0);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(static_cast<double>(delay.count()) * fraction(random_)));
}

}  // namespace globalsvc::kube
