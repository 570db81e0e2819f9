#pragma once

// Exponential backoff with jitter, so many clients that failed together do not
// retry together.

#include <chrono>
#include <cstdint>
#include <random>

namespace globalsvc::kube {

struct BackoffPolicy {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds max{30'000};
  double factor = 2.0;
  // Each delay is drawn from [d * (1 - jitter), d].
  double jitter = 0.5;
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {}, std::uint64_t seed = std::random_device{}());

  // The delay before the next attempt; each call grows the base delay.
  [[nodiscard]] std::chrono::milliseconds Next();
  // After a success: the next failure starts from the initial delay again.
  void Reset() { attempts_ = 0; }
  [[nodiscard]] int attempts() const { return attempts_; }

 private:
  BackoffPolicy policy_;
  int attempts_ = 0;
  std::mt19937_64 random_;
};

// The undithered delay after `attempts` failures: initial * factor^attempts,
// capped at max. Shared by Backoff and the work queue's per-key delays.
[[nodiscard]] std::chrono::milliseconds ExponentialDelay(const BackoffPolicy& policy, int attempts);

}  // namespace globalsvc::kube
