// The leader's side of Controller: waiting for caches, taking the lead with
// every key that may need a write, and the workers that reconcile them. See
// ARCHITECTURE.md ("Threads and who owns what").

#include <spdlog/spdlog.h>

#include <set>

#include "controller/carry_over.h"
#include "controller/controller.h"
#include "controller/stop_sleep.h"
#include "lib/base/guard.h"

namespace globalsvc::controller {

bool Controller::WaitForSync(std::stop_token stop) {
  const auto deadline = options_.clock->Now() + options_.initial_sync_timeout;
  bool warned = false;
  while (!stop.stop_requested()) {
    if (Ready().first) {
      std::vector<std::string> waiting;
      for (const auto& remote : remotes_->Status()) {
        if (remote.connected && !remote.health.synced) waiting.push_back(remote.cluster);
      }
      if (waiting.empty()) return true;
      if (options_.clock->Now() >= deadline) {
        if (!warned) {
          for (const auto& cluster : waiting) {
            log_.Warn(
                "remote cluster not synced within the initial sync timeout; writing without it",
                {{"cluster", cluster}});
          }
        }
        return true;
      }
    }
    if (!SleepFor(stop, std::chrono::milliseconds(100))) return false;
  }
  return false;
}

void Controller::Lead(std::stop_token stop) {
  // A replica that holds the Lease must write: an exception while taking the
  // lead is reported and the lead taken again, not left half-done.
  while (!RunGuarded("lead", [&] { LeadOnce(stop); })) {
    leading_ = false;
    metrics_.leader.Set(0);
    if (!SleepFor(stop, std::chrono::seconds(1))) return;
  }
}

void Controller::LeadOnce(std::stop_token stop) {
  log_.Info("leading: waiting for caches to sync", {{"identity", options_.identity}});
  if (!WaitForSync(stop)) return;
  CarryOverUnsyncedRemotes();
  // Level-triggered: every key that may need a write, including owned
  // ServiceEntries whose service is gone (changes made while no one led).
  std::set<std::string> keys;
  for (auto& key : store_.ServiceKeys())
    keys.insert(std::move(key));
  for (auto& key : observer_->ManagedKeys())
    keys.insert(std::move(key));
  if (shape_writer_) {
    keys.insert(kPeerGatewaysKey);
    for (auto* observer :
         {shape_service_entries_.get(), shape_workload_entries_.get(), shape_gateways_.get()}) {
      for (auto& key : observer->OwnerKeys())
        keys.insert(std::move(key));
    }
  }
  first_pass_.Begin(keys);
  leading_ = true;
  metrics_.leader.Set(1);
  log_.Info("leading: caches synced, reconciling", {{"keys", keys.size()}});
  Enqueue({keys.begin(), keys.end()});
  while (SleepFor(stop, std::chrono::hours(1))) {
  }
  leading_ = false;
  metrics_.leader.Set(0);
}

void Controller::Work(std::stop_token stop) {
  while (!stop.stop_requested()) {
    auto key = queue_.Get();
    if (!key) return;  // shut down
    if (!leading_) {
      // A standby drops keys: on becoming leader it reconciles everything.
      queue_.Forget(*key);
      queue_.Done(*key);
      continue;
    }
    // An exception while reconciling one service is that service's error
    // (retried with backoff), never the end of the worker.
    ReconcileResult result;
    result.outcome = ReconcileOutcome::kError;
    (void)RunGuarded("reconcile", [&] { result = reconciler_->Reconcile(*key); });
    if (first_pass_.Reconciled(*key)) log_.Info("leading: every key reconciled once");
    if (result.outcome == ReconcileOutcome::kError) {
      queue_.AddRateLimited(*key);
    } else {
      queue_.Forget(*key);
    }
    queue_.Done(*key);
  }
}

void Controller::CarryOverUnsyncedRemotes() {
  std::set<std::string> unsynced;
  for (const auto& remote : remotes_->Status()) {
    if (!(remote.connected && remote.health.synced)) unsynced.insert(remote.cluster);
  }
  if (unsynced.empty()) return;
  CarryOverOptions carry;
  carry.workload_entries = shape_writer_ != nullptr;
  carry.control_plane_namespace = options_.control_plane_namespace;
  CarryOverUnsynced(*writer_, carry, unsynced, store_);
}

}  // namespace globalsvc::controller
