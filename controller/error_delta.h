#pragma once

// Turns cumulative per-connection error counts into increments of a
// monotonic counter. A cluster's connection can be replaced (credentials
// rotated, Secret re-added); the new connection counts from 0, and its errors
// must still raise the counter.

#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace globalsvc::controller {

class ErrorDelta {
 public:
  // The increment to add for `cluster`, whose connection `generation` has
  // failed `errors` times so far.
  std::uint64_t Observe(const std::string& cluster, std::uint64_t generation,
                        std::uint64_t errors) {
    auto& [seen_generation, seen] = seen_[cluster];
    if (seen_generation != generation) {
      seen_generation = generation;
      seen = 0;
    }
    const std::uint64_t delta = errors > seen ? errors - seen : 0;
    seen = errors;
    return delta;
  }

 private:
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> seen_;
};

}  // namespace globalsvc::controller
