#pragma once

// Tells when every key of a leader's first pass has been reconciled once.
// Until then the per-cluster counts the reconciler gathers are partial, so
// whatever publishes them (the RemoteCluster status) waits: a restarted
// leader would otherwise write half counts and then the whole ones again.
//
// Threads: Begin() from the leading thread, Reconciled() from any worker,
// done() from anywhere.

#include <atomic>
#include <mutex>
#include <set>
#include <string>

namespace globalsvc::controller {

class FirstPass {
 public:
  // A new pass over `keys` (leading began); an empty pass is done at once.
  void Begin(std::set<std::string> keys) {
    std::lock_guard lock(mutex_);
    pending_ = std::move(keys);
    done_ = pending_.empty();
  }

  // `key` was reconciled, whatever the outcome. True when this completes the pass.
  bool Reconciled(const std::string& key) {
    if (done_) return false;
    std::lock_guard lock(mutex_);
    if (done_ || pending_.erase(key) == 0 || !pending_.empty()) return false;
    done_ = true;
    return true;
  }

  [[nodiscard]] bool done() const { return done_; }

 private:
  std::mutex mutex_;
  std::set<std::string> pending_;
  std::atomic<bool> done_{false};
};

}  // namespace globalsvc::controller
