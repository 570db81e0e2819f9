#include "lib/kube/leader_elector.h"

#include <algorithm>

#include "lib/base/guard.h"
#include "lib/base/json_fields.h"
#include "lib/base/rfc3339.h"
#include "lib/kube/logger.h"

namespace globalsvc::kube {

using nlohmann::json;

LeaderElector::LeaderElector(KubeClient& client, LeaderElectionConfig config,
                             LeaderCallbacks callbacks, Clock& clock)
    : client_(client),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      clock_(clock) {}

LeaderElector::~LeaderElector() {
  Stop();
}

void LeaderElector::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void LeaderElector::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wake_.notify_all();
  thread_.join();
}

bool LeaderElector::IsLeader() const {
  std::lock_guard lock(mutex_);
  return leading_ && clock_.Now() < last_renew_ + config_.renew_deadline;
}

std::string LeaderElector::observed_leader() const {
  std::lock_guard lock(mutex_);
  return observed_holder_;
}

void LeaderElector::Wait(std::stop_token stop, Clock::Duration delay) {
  const auto deadline = clock_.Now() + delay;
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested() && clock_.Now() < deadline) {
    clock_.WaitUntil(wake_, lock, deadline);
  }
}

json LeaderElector::LeaseSpec(const json& previous, bool acquiring) const {
  json spec = previous.is_object() ? previous : json::object();
  const std::string now = FormatMicroTime(clock_.WallNow());
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(config_.lease_duration).count();
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = seconds;
  spec["renewTime"] = now;
  if (acquiring) {
    spec["acquireTime"] = now;
    spec["leaseTransitions"] = IntFieldAt(previous, {"leaseTransitions"}).value_or(-1) + 1;
  }
  return spec;
}

LeaderElector::Attempt LeaderElector::GuardedAttempt() {
  Attempt attempt = Attempt::kFailed;
  (void)RunGuarded("leader election", [&] { attempt = TryAcquireOrRenew(); });
  return attempt;
}

LeaderElector::Attempt LeaderElector::TryAcquireOrRenew() {
  const auto now = clock_.Now();
  auto current = client_.Get(resources::Leases(), config_.namespace_name, config_.lease_name);
  if (!current.ok()) {
    if (current.error().code != ErrorCode::kNotFound) {
      Log().Warn("lease read failed", {{"lease", LeaseName()}, {"error", current.error().message}});
      return Attempt::kFailed;
    }
    return CreateLease(now);
  }

  // Anyone who may edit the Lease can give it any shape: read it checked.
  json& lease = *current;
  if (!lease.is_object()) return Attempt::kFailed;
  const json* stored_spec = FieldOf(lease, "spec");
  const json spec =
      stored_spec != nullptr && stored_spec->is_object() ? *stored_spec : json::object();
  const std::string holder = StringFieldAt(spec, {"holderIdentity"});
  const std::string renew_time = StringFieldAt(spec, {"renewTime"});
  const auto duration = std::chrono::seconds(
      std::clamp<std::int64_t>(IntFieldAt(spec, {"leaseDurationSeconds"}).value_or(15), 1, 3600));
  bool holder_changed = false;
  bool held_by_other = false;
  {
    std::lock_guard lock(mutex_);
    if (holder != observed_holder_ || renew_time != observed_renew_time_) {
      holder_changed = holder != observed_holder_;
      observed_holder_ = holder;
      observed_renew_time_ = renew_time;
      observed_at_ = now;
    }
    held_by_other = !holder.empty() && holder != config_.identity && now < observed_at_ + duration;
  }
  if (held_by_other) {
    // Outside the lock: the callback may call IsLeader().
    if (holder_changed && callbacks_.on_new_leader) callbacks_.on_new_leader(holder);
    return Attempt::kHeldByOther;
  }
  const bool acquiring = holder != config_.identity;
  lease["spec"] = LeaseSpec(spec, acquiring);
  auto updated = client_.Update(resources::Leases(), config_.namespace_name, lease);
  if (!updated.ok()) {
    // 409: another candidate wrote first; it will show on the next read.
    Log().Info("lease update failed",
               {{"lease", LeaseName()}, {"code", ErrorCodeName(updated.error().code)}});
    return Attempt::kFailed;
  }
  return Hold(std::move(*updated), now);
}

LeaderElector::Attempt LeaderElector::CreateLease(Clock::TimePoint now) {
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", config_.lease_name}, {"namespace", config_.namespace_name}}},
                {"spec", LeaseSpec(json(), true)}};
  auto created = client_.Create(resources::Leases(), config_.namespace_name, lease);
  if (!created.ok()) return Attempt::kFailed;
  return Hold(std::move(*created), now);
}

LeaderElector::Attempt LeaderElector::Hold(json written, Clock::TimePoint now) {
  std::lock_guard lock(mutex_);
  lease_ = std::move(written);
  observed_holder_ = config_.identity;
  observed_renew_time_ = StringFieldAt(lease_, {"spec", "renewTime"});
  observed_at_ = now;
  return Attempt::kAcquired;
}

void LeaderElector::StopLeading() {
  {
    std::lock_guard lock(mutex_);
    leading_ = false;
    work_stop_.request_stop();
  }
  if (work_.joinable()) work_.join();
  if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
}

void LeaderElector::Release() {
  json lease;
  {
    std::lock_guard lock(mutex_);
    lease = lease_;
  }
  if (!lease.is_object() || StringFieldAt(lease, {"spec", "holderIdentity"}) != config_.identity ||
      !lease["spec"].is_object()) {
    return;
  }
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = FormatMicroTime(clock_.WallNow());
  auto released = client_.Update(resources::Leases(), config_.namespace_name, lease);
  Log().Info("lease released",
             {{"lease", LeaseName()}, {"identity", config_.identity}, {"ok", released.ok()}});
}

void LeaderElector::Lead(std::stop_token stop) {
  Log().Info("leading", {{"lease", LeaseName()}, {"identity", config_.identity}});
  {
    std::lock_guard lock(mutex_);
    leading_ = true;
    last_renew_ = clock_.Now();
    work_stop_ = std::stop_source();
  }
  if (callbacks_.on_new_leader) callbacks_.on_new_leader(config_.identity);
  if (callbacks_.on_started_leading) {
    work_ = std::jthread([this, token = work_stop_.get_token()] {
      (void)RunGuarded("leader work", [&] { callbacks_.on_started_leading(token); });
    });
  }
  // The watchdog stops the work at the renew deadline even while a renewal
  // request is still hanging.
  std::jthread watchdog([this](std::stop_token watchdog_stop) {
    std::unique_lock lock(mutex_);
    while (!watchdog_stop.stop_requested() && leading_) {
      const auto deadline = last_renew_ + config_.renew_deadline;
      if (clock_.Now() >= deadline) {
        Log().Error("leadership lost", {{"lease", LeaseName()},
                                        {"identity", config_.identity},
                                        {"reason", "renew_deadline_exceeded"}});
        leading_ = false;
        work_stop_.request_stop();
        break;
      }
      clock_.WaitUntil(wake_, lock, deadline);
    }
  });

  while (!stop.stop_requested()) {
    Wait(stop, config_.retry_period);
    if (stop.stop_requested()) break;
    const auto attempt_started = clock_.Now();
    const Attempt attempt = GuardedAttempt();
    std::lock_guard lock(mutex_);
    if (!leading_) break;  // the watchdog gave up already
    if (attempt == Attempt::kAcquired) {
      last_renew_ = attempt_started;
    } else if (attempt == Attempt::kHeldByOther) {
      Log().Error(
          "leadership lost",
          {{"lease", LeaseName()}, {"identity", config_.identity}, {"reason", "held_by_other"}});
      leading_ = false;
      work_stop_.request_stop();
      break;
    }
  }
  watchdog.request_stop();
  wake_.notify_all();
  watchdog.join();
  const bool stopping = stop.stop_requested();
  StopLeading();
  if (stopping && config_.release_on_stop) Release();
}

void LeaderElector::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    if (GuardedAttempt() == Attempt::kAcquired) {
      Lead(stop);
      continue;
    }
    // Jitter the retry so candidates do not move in lockstep.
    std::uniform_real_distribution<double> jitter(1.0, 1.2);
    Wait(stop, std::chrono::duration_cast<Clock::Duration>(config_.retry_period * jitter(random_)));
  }
}

}  // namespace globalsvc::kube
