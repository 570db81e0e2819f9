#pragma once

// The bench's projection interns strings that repeat across many cached
// objects (node names, zones, service and port names): each distinct value is
// stored once and a projection holds a 16-byte view. Views stay valid for the
// pool's lifetime; entries are never removed. Thread-safe.

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace globalsvc::bench {

class StringPool {
 public:
  [[nodiscard]] std::string_view Intern(std::string_view text) {
    std::lock_guard lock(mutex_);
    // Set elements never move (the set is node-based), so views into them
    // stay valid as it grows.
    return *strings_.emplace(text).first;
  }
  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return strings_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_set<std::string> strings_;
};

}  // namespace globalsvc::bench
