#include "controller/service_status_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "controller/api_group.h"
#include "controller/owned_objects.h"
#include "controller/service_status.h"
#include "lib/base/guard.h"
#include "lib/base/json_fields.h"
#include "lib/base/rfc3339.h"
#include "lib/kube/reflector_sink.h"
#include "lib/mesh/model.h"
#include "lib/observability/logging.h"

namespace globalsvc::controller {
namespace {

constexpr const char* kKind = "GlobalService";

}  // namespace

const kube::ResourceType& GlobalServiceResource() {
  static const kube::ResourceType type{kApiGroup, kApiGroupVersion, "globalservices", true};
  return type;
}

ServiceStatusWriter::ServiceStatusWriter(kube::ObjectApi& client,
                                         ServiceStatusWriterOptions options,
                                         ControllerMetrics& metrics,
                                         std::function<bool()> may_write, KeysCallback on_keys)
    : client_(client),
      writer_(client),
      options_(std::move(options)),
      metrics_(metrics),
      may_write_(std::move(may_write)),
      on_keys_(std::move(on_keys)),
      limiter_(options_.qps, options_.burst, *options_.clock),
      pending_gauge_(metrics.registry.AddGauge(
          "globalsvc_status_pending", "GlobalService status changes waiting to be written.")),
      log_(obs::ComponentLogger("service-status")) {}

ServiceStatusWriter::~ServiceStatusWriter() {
  Stop();
}

void ServiceStatusWriter::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void ServiceStatusWriter::Stop() {
  thread_ = {};  // requests stop and joins
}

void ServiceStatusWriter::Set(const std::string& key, std::optional<nlohmann::json> status) {
  const auto [ns, service] = kube::SplitObjectKey(key);
  if (ns.empty()) return;
  const std::string name = GlobalServiceName(std::string(ns), std::string(service));
  Desired desired;
  if (status) {
    desired.status = DumpJson(*status);
    desired.hash = StatusTextHash(*desired.status);  // built: no lastChangeTime yet
  }
  std::lock_guard lock(mutex_);
  if (listed_ && !pending_.count(name)) {
    // Most reconciles change nothing: stop them here.
    auto it = stored_.find(name);
    if (!desired.status && it == stored_.end()) return;
    if (desired.status && it != stored_.end() && it->second.managed &&
        it->second.hash == desired.hash) {
      return;
    }
  }
  pending_[name] = std::move(desired);
  CountPendingLocked();
  wake_.notify_one();
}

void ServiceStatusWriter::CountPendingLocked() {
  pending_gauge_.Set(static_cast<double>(pending_.size() + (in_flight_ ? 1 : 0)));
}

void ServiceStatusWriter::SleepUntil(std::unique_lock<std::mutex>& lock, std::stop_token stop,
                                     kube::Clock::TimePoint deadline) {
  while (!stop.stop_requested() && options_.clock->Now() < deadline) {
    options_.clock->WaitUntil(wake_, lock, deadline);
  }
}

void ServiceStatusWriter::Run(std::stop_token stop) {
  // Stopping wakes every wait below (under the mutex: no lost wake-up).
  // Registered before the lock is taken: it runs at once if stop was asked.
  std::stop_callback wake_on_stop(stop, [this] {
    std::lock_guard stopping(mutex_);
    wake_.notify_all();
  });
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (may_write_ && !may_write_()) {
      // Not leading: another replica may write meanwhile. Becoming leader
      // reconciles every key; the watch keeps what the cluster holds current.
      pending_.clear();
      CountPendingLocked();
      SleepUntil(lock, stop, options_.clock->Now() + std::chrono::seconds(1));
      continue;
    }
    if (!listed_ || pending_.empty()) {
      wake_.wait(lock);  // the first list, Set() and stopping notify
      continue;
    }
    auto first = pending_.begin();
    const std::string name = first->first;
    Desired desired = std::move(first->second);
    pending_.erase(first);
    in_flight_ = Flight{name, {}, {}, false};
    lock.unlock();
    bool written = false;
    (void)RunGuarded("status write", [&] { written = Write(name, desired); });
    lock.lock();
    const bool changed_by_others = EndFlightLocked();
    if (!written) pending_.try_emplace(name, std::move(desired));  // a newer value wins
    CountPendingLocked();
    if (changed_by_others && on_keys_) {
      lock.unlock();
      if (auto key = KeyOfGlobalServiceName(name)) on_keys_({*key});
      lock.lock();
    }
    if (!written) SleepUntil(lock, stop, options_.clock->Now() + options_.retry_delay);
  }
}

bool ServiceStatusWriter::EndFlightLocked() {
  if (!in_flight_) return false;
  Flight flight = std::move(*in_flight_);
  in_flight_.reset();
  bool others = false;
  for (const auto& [version, deleted] : flight.seen) {
    const bool ours = deleted ? flight.deleted
                              : std::find(flight.written.begin(), flight.written.end(), version) !=
                                    flight.written.end();
    others = others || !ours;
  }
  // Someone else changed the object while we wrote it: which came last is
  // unknown, so the stored copy is not trusted and the next Set() writes.
  if (others) {
    if (auto it = stored_.find(flight.name); it != stored_.end()) it->second.hash.clear();
  }
  return others;
}

std::pair<std::string, ServiceStatusWriter::Stored> ServiceStatusWriter::StoredOf(
    const nlohmann::json& object) {
  Stored stored;
  stored.uid = StringAt(object, "metadata", "uid");
  stored.managed = IsManagedByGlobalsvc(object);
  const nlohmann::json* status = FieldOf(object, "status");
  stored.hash = StatusHash(status != nullptr ? *status : nlohmann::json::object());
  stored.resource_version = StringAt(object, "metadata", "resourceVersion");
  return {StringAt(object, "metadata", "name"), std::move(stored)};
}

void ServiceStatusWriter::BeginReplace() {
  std::lock_guard lock(mutex_);
  replacing_.clear();
}

void ServiceStatusWriter::ReplaceItem(nlohmann::json&& object) {
  auto [name, stored] = StoredOf(object);
  std::lock_guard lock(mutex_);
  replacing_[name] = std::move(stored);
}

void ServiceStatusWriter::AbortReplace() {
  std::lock_guard lock(mutex_);
  replacing_.clear();
}

void ServiceStatusWriter::EndReplace() {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mutex_);
    // Objects that appeared, went or changed since the last list, and (on
    // the first list) every object of an earlier run: reconcile their services.
    std::set<std::string> names;
    for (const auto& [name, stored] : replacing_)
      names.insert(name);
    for (const auto& [name, stored] : stored_)
      names.insert(name);
    for (const auto& name : names) {
      auto a = replacing_.find(name);
      auto b = stored_.find(name);
      const bool same = a != replacing_.end() && b != stored_.end() &&
                        a->second.uid == b->second.uid && a->second.hash == b->second.hash &&
                        a->second.managed == b->second.managed;
      if (same) continue;
      if (auto key = KeyOfGlobalServiceName(name)) keys.push_back(*key);
    }
    stored_ = std::move(replacing_);
    replacing_.clear();
    own_versions_.clear();  // the list is newer than any echo still to come
    listed_ = true;
    wake_.notify_one();
  }
  if (on_keys_ && !keys.empty()) on_keys_(std::move(keys));
}

void ServiceStatusWriter::ApplyEvent(kube::WatchEventType type, nlohmann::json&& object) {
  if (type != kube::WatchEventType::kAdded && type != kube::WatchEventType::kModified &&
      type != kube::WatchEventType::kDeleted) {
    return;
  }
  auto [name, seen] = StoredOf(object);
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    if (auto own = own_versions_.find(name); own != own_versions_.end()) {
      auto& versions = own->second;
      auto echo = std::find(versions.begin(), versions.end(), seen.resource_version);
      if (echo != versions.end()) {
        // An echo of our own write: what we recorded at its answer already
        // says it, and a later write of ours may have followed.
        versions.erase(versions.begin(), echo + 1);
        if (versions.empty()) own_versions_.erase(own);
        return;
      }
    }
    // While we write it, events are ours or others'; which, the answers
    // tell (EndFlightLocked).
    const bool in_flight = in_flight_ && in_flight_->name == name;
    if (in_flight) {
      in_flight_->seen.emplace_back(seen.resource_version, type == kube::WatchEventType::kDeleted);
    }
    auto it = stored_.find(name);
    if (type == kube::WatchEventType::kDeleted) {
      own_versions_.erase(name);
      if (it != stored_.end() && it->second.uid == seen.uid) {
        stored_.erase(it);
        changed = true;
      }
    } else {
      changed = it == stored_.end() || it->second.uid != seen.uid || it->second.hash != seen.hash ||
                it->second.managed != seen.managed;
      stored_[name] = std::move(seen);
    }
    if (in_flight) return;
  }
  if (!changed || !on_keys_) return;
  if (auto key = KeyOfGlobalServiceName(name)) on_keys_({*key});
}

void ServiceStatusWriter::RecordOwnWriteLocked(const std::string& name, Stored stored) {
  bool echoed = false;  // an echo that came before the answer
  if (in_flight_ && in_flight_->name == name) {
    in_flight_->written.push_back(stored.resource_version);
    for (const auto& [version, deleted] : in_flight_->seen)
      echoed = echoed || (!deleted && version == stored.resource_version);
  }
  auto& versions = own_versions_[name];
  if (!echoed && !stored.resource_version.empty()) {
    versions.push_back(stored.resource_version);
    if (versions.size() > kMaxOwnVersions) versions.pop_front();
  }
  if (versions.empty()) own_versions_.erase(name);
  stored_[name] = std::move(stored);
}

bool ServiceStatusWriter::Write(const std::string& name, const Desired& desired) {
  std::optional<Stored> stored;
  {
    std::lock_guard lock(mutex_);
    if (auto it = stored_.find(name); it != stored_.end()) stored = it->second;
  }
  if (!desired.status) return stored && stored->managed ? Remove(name, *stored) : true;
  if (stored && !stored->managed) {
    if (foreign_reported_.insert(name).second) {
      log_.Warn("object exists and is not managed by globalsvc; its status is not written",
                {{"kind", "GlobalService"}, {"name", options_.namespace_name + "/" + name}});
    }
    return true;
  }
  if (stored && stored->hash == desired.hash) return true;
  if (may_write_ && !may_write_()) return false;
  if (!stored) {
    stored = Create(name);
    if (!stored) return false;
  }
  return ApplyStatus(name, desired);
}

std::optional<ServiceStatusWriter::Stored> ServiceStatusWriter::Create(const std::string& name) {
  const auto dot = name.find('.');
  nlohmann::json object = {
      {"apiVersion", kApiVersion},
      {"kind", kKind},
      {"metadata",
       {{"name", name},
        {"namespace", options_.namespace_name},
        {"labels",
         {{mesh::kManagedByLabel, mesh::kManagedByValue},
          {mesh::kParentServiceNamespaceLabel, name.substr(0, dot)},
          {mesh::kParentServiceLabel, name.substr(dot + 1)}}}}},
      {"spec", nlohmann::json::object()},
  };
  // Create, not apply: an object someone made since the list is never taken over.
  limiter_.Acquire();
  auto created = writer_.Create(GlobalServiceResource(), options_.namespace_name, object);
  if (!created.ok()) {
    if (created.error().code == ErrorCode::kConflict) {
      auto existing = client_.Get(GlobalServiceResource(), options_.namespace_name, name);
      if (existing.ok()) {
        std::lock_guard lock(mutex_);
        stored_[name] = StoredOf(*existing).second;
      }
    } else {
      Warn("GlobalService not created", name, created.error());
    }
    return std::nullopt;
  }
  metrics_.writes.Inc({"status"});
  Stored stored = StoredOf(*created).second;
  std::lock_guard lock(mutex_);
  RecordOwnWriteLocked(name, stored);
  return stored;
}

bool ServiceStatusWriter::ApplyStatus(const std::string& name, const Desired& desired) {
  nlohmann::json status = nlohmann::json::parse(*desired.status);
  status[kLastChangeTimeField] = FormatMicroTime(options_.clock->WallNow());
  nlohmann::json object = {
      {"apiVersion", kApiVersion},
      {"kind", kKind},
      {"metadata", {{"name", name}, {"namespace", options_.namespace_name}}},
      {"status", std::move(status)},
  };
  limiter_.Acquire();
  // Ours: Write() checked the label.
  auto written = writer_.ApplyStatus(GlobalServiceResource(), options_.namespace_name, object,
                                     Observed::kOurs);
  if (!written.ok()) {
    if (written.error().code == ErrorCode::kNotFound) {
      std::lock_guard lock(mutex_);
      stored_.erase(name);  // deleted meanwhile: create it again
    }
    Warn("GlobalService status not written", name, written.error());
    return false;
  }
  metrics_.writes.Inc({"status"});
  {
    std::lock_guard lock(mutex_);
    Stored now = StoredOf(*written).second;
    now.hash = desired.hash;  // what Set() compares with, whatever the server defaulted
    RecordOwnWriteLocked(name, std::move(now));
  }
  warned_ = false;
  if (log_.Enabled(spdlog::level::debug)) {  // one per write: skip building the fields
    log_.Debug("status written",
               {{"name", options_.namespace_name + "/" + name}, {"hash", desired.hash}});
  }
  return true;
}

bool ServiceStatusWriter::Remove(const std::string& name, const Stored& stored) {
  if (may_write_ && !may_write_()) return false;
  limiter_.Acquire();
  auto deleted = writer_.Delete(GlobalServiceResource(), options_.namespace_name, name, stored.uid);
  if (!deleted.ok() && deleted.error().code == ErrorCode::kConflict) {
    // Another object of that name now: its watch event hands the key on.
    return true;
  }
  if (!deleted.ok()) {
    Warn("GlobalService not deleted", name, deleted.error());
    return false;
  }
  const bool now = *deleted == Deleted::kNow;
  if (now) metrics_.writes.Inc({"status-delete"});
  std::lock_guard lock(mutex_);
  if (auto it = stored_.find(name); it != stored_.end() && it->second.uid == stored.uid) {
    stored_.erase(it);
  }
  own_versions_.erase(name);
  if (now && in_flight_ && in_flight_->name == name) in_flight_->deleted = true;
  return true;
}

void ServiceStatusWriter::Warn(std::string_view what, const std::string& name, const Error& error) {
  const LogFields fields{{"name", options_.namespace_name + "/" + name},
                         {"code", ErrorCodeName(error.code)},
                         {"error", error.message}};
  if (warned_) {
    log_.Debug(what, fields);
    return;
  }
  log_.Warn(std::string(what) + " (is crds/ installed and allowed?)", fields);
  warned_ = true;
}

}  // namespace globalsvc::controller
