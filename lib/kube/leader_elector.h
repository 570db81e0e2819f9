#pragma once

// Leader election on a coordination.k8s.io/v1 Lease, with client-go's
// semantics and defaults (lease 15 s, renew deadline 10 s, retry 2 s):
// - a candidate takes the lease when it is free or when its holder has not
//   renewed it for a lease duration, measured on the local clock from when
//   this candidate last saw the record change (no clock sync needed);
// - the leader renews every retry period; updates carry the resourceVersion,
//   so two candidates never both win;
// - the moment the leader has gone a renew deadline without a successful
//   renewal (or a renewal finds another holder), the caller's work is told to
//   stop and IsLeader() turns false, before anyone else can take over;
// - Stop() stops the work and releases the lease so a successor takes over
//   at once instead of after a lease duration.
// Threads: one for the election loop, one watchdog while leading, and the
// caller's work runs on its own thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <stop_token>
#include <string>
#include <thread>

#include "lib/kube/clock.h"
#include "lib/kube/kube_client.h"

namespace globalsvc::kube {

struct LeaderElectionConfig {
  std::string namespace_name;
  std::string lease_name;
  std::string identity;  // unique per candidate (e.g. pod name)
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
  bool release_on_stop = true;
};

struct LeaderCallbacks {
  // Runs on its own thread while this candidate leads; must return soon after
  // `stop` is requested.
  std::function<void(std::stop_token stop)> on_started_leading;
  // Called (on the election thread) after leadership was lost or given up.
  std::function<void()> on_stopped_leading;
  // Called when the observed holder changes (may be this candidate).
  std::function<void(const std::string& identity)> on_new_leader;
};

class LeaderElector {
 public:
  LeaderElector(KubeClient& client, LeaderElectionConfig config, LeaderCallbacks callbacks,
                Clock& clock = SystemClock::Instance());
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  void Start();
  void Stop();

  // True only while leading and within the renew deadline of the last
  // successful renewal: check it right before every write.
  [[nodiscard]] bool IsLeader() const;
  [[nodiscard]] std::string observed_leader() const;

 private:
  enum class Attempt { kAcquired, kHeldByOther, kFailed };

  void Run(std::stop_token stop);
  Attempt TryAcquireOrRenew();
  Attempt CreateLease(Clock::TimePoint now);
  // Records a Lease we just wrote as held by us.
  Attempt Hold(nlohmann::json written, Clock::TimePoint now);
  // TryAcquireOrRenew with any exception reported as an internal error and
  // counted as a failed attempt.
  Attempt GuardedAttempt();
  void Lead(std::stop_token stop);
  void StopLeading();
  void Release();
  void Wait(std::stop_token stop, Clock::Duration delay);
  nlohmann::json LeaseSpec(const nlohmann::json& previous, bool acquiring) const;
  // "namespace/name", for log records.
  std::string LeaseName() const { return config_.namespace_name + "/" + config_.lease_name; }

  KubeClient& client_;
  const LeaderElectionConfig config_;
  const LeaderCallbacks callbacks_;
  Clock& clock_;
  std::mt19937_64 random_{std::random_device{}()};

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool leading_ = false;
  Clock::TimePoint last_renew_{};
  std::string observed_holder_;
  std::string observed_renew_time_;
  Clock::TimePoint observed_at_{};
  nlohmann::json lease_;  // last lease read or written
  std::stop_source work_stop_;
  std::jthread work_;
  std::jthread thread_;
};

}  // namespace globalsvc::kube
