#pragma once

// An indexed, read-only (to its readers) cache of one resource in one cluster:
// the one informer of the project (reflector -> indexed store -> change
// handlers). It keeps only a caller-chosen projection of each object (a small
// struct with the fields the caller needs), never the object itself; a
// projection may skip an object (nullopt), which is then not kept at all. A
// Reflector writes it; readers get immutable snapshots of entries
// (shared_ptr<const T>) and can read from any thread. Change handlers run on
// the writer's thread, after the cache is updated and outside its lock, in
// event order. A writer of the objects may Record() its own write at once,
// so its next read does not act on the copy before the write; the watch
// event of that write then reports no change.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lib/kube/reflector_sink.h"

namespace globalsvc::kube {

template <typename T>
struct CacheChange {
  std::string key;
  std::shared_ptr<const T> old_value;  // null: added
  std::shared_ptr<const T> new_value;  // null: deleted
};

template <typename T>
class Cache final : public ReflectorSink {
 public:
  // A function returning T converts too (it never skips).
  using Projection = std::function<std::optional<T>(const nlohmann::json& object)>;
  using IndexFunction = std::function<std::vector<std::string>(const T& value)>;
  using ChangeHandler = std::function<void(const CacheChange<T>& change)>;
  // All the changes of one list or one event, at once.
  using BatchHandler = std::function<void(const std::vector<CacheChange<T>>& changes)>;

  explicit Cache(Projection projection) : projection_(std::move(projection)) {}

  // Set up before the reflector starts.
  void AddIndex(std::string name, IndexFunction function) {
    std::unique_lock lock(mutex_);
    indexers_.emplace(std::move(name), std::move(function));
  }
  void AddChangeHandler(ChangeHandler handler) {
    std::unique_lock lock(mutex_);
    handlers_.push_back(std::move(handler));
  }
  void AddBatchHandler(BatchHandler handler) {
    std::unique_lock lock(mutex_);
    batch_handlers_.push_back(std::move(handler));
  }

  [[nodiscard]] std::shared_ptr<const T> Get(std::string_view key) const {
    std::shared_lock lock(mutex_);
    const auto it = entries_.find(std::string(key));
    return it == entries_.end() ? nullptr : it->second.value;
  }
  [[nodiscard]] std::vector<std::shared_ptr<const T>> List() const {
    std::shared_lock lock(mutex_);
    std::vector<std::shared_ptr<const T>> out;
    out.reserve(entries_.size());
    for (const auto& [key, entry] : entries_)
      out.push_back(entry.value);
    return out;
  }
  // Every entry with its key, in key order.
  [[nodiscard]] std::vector<std::pair<std::string, std::shared_ptr<const T>>> Items() const {
    std::vector<std::pair<std::string, std::shared_ptr<const T>>> out;
    {
      std::shared_lock lock(mutex_);
      out.reserve(entries_.size());
      for (const auto& [key, entry] : entries_)
        out.emplace_back(key, entry.value);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
  }
  [[nodiscard]] std::vector<std::string> Keys() const {
    std::shared_lock lock(mutex_);
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& [key, entry] : entries_)
      out.push_back(key);
    return out;
  }
  // Entries whose index function returned `value`.
  [[nodiscard]] std::vector<std::shared_ptr<const T>> ByIndex(std::string_view index,
                                                              std::string_view value) const {
    std::shared_lock lock(mutex_);
    std::vector<std::shared_ptr<const T>> out;
    const auto by_index = indices_.find(std::string(index));
    if (by_index == indices_.end()) return out;
    const auto keys = by_index->second.find(std::string(value));
    if (keys == by_index->second.end()) return out;
    for (const auto& key : keys->second)
      out.push_back(entries_.at(*key).value);
    return out;
  }
  [[nodiscard]] std::size_t size() const {
    std::shared_lock lock(mutex_);
    return entries_.size();
  }
  // Whether the entry for `key` came from an object at `resource_version`.
  [[nodiscard]] bool HasVersion(std::string_view key, std::string_view resource_version) const {
    std::shared_lock lock(mutex_);
    const auto it = entries_.find(std::string(key));
    return it != entries_.end() && it->second.version == VersionFingerprint(resource_version);
  }

  // True once a first full list has been stored.
  [[nodiscard]] bool HasSynced() const {
    std::lock_guard lock(sync_mutex_);
    return synced_;
  }
  // Waits (real time) until synced; false on timeout.
  [[nodiscard]] bool WaitForSync(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(sync_mutex_);
    return sync_cv_.wait_for(lock, timeout, [this] { return synced_; });
  }

  // ReflectorSink
  void BeginReplace() override { staged_.clear(); }
  void ReplaceItem(nlohmann::json&& object) override {
    std::string key = ObjectKey(object);
    if (key.empty()) return;
    auto value = projection_(object);
    if (!value) return;  // skipped: as if not listed
    const auto version = VersionFingerprint(ResourceVersionOf(object));
    staged_.insert_or_assign(std::move(key),
                             Entry{std::make_shared<const T>(std::move(*value)), version});
  }
  void AbortReplace() override { staged_ = EntryMap(); }
  void EndReplace() override {
    std::vector<CacheChange<T>> changes;
    {
      std::unique_lock lock(mutex_);
      for (auto it = entries_.begin(); it != entries_.end();) {
        if (!staged_.contains(it->first)) {
          changes.push_back({it->first, it->second.value, nullptr});
          Unindex(it->first, *it->second.value);
          it = entries_.erase(it);
        } else {
          ++it;
        }
      }
      for (auto& [key, entry] : staged_) {
        const auto existing = entries_.find(key);
        if (existing == entries_.end()) {
          changes.push_back({key, nullptr, entry.value});
          const auto inserted = entries_.emplace(key, std::move(entry)).first;
          Index(inserted->first, *inserted->second.value);
        } else if (existing->second.version != entry.version) {
          StoreLocked(existing, std::move(entry), changes);
        }
      }
    }
    staged_ = EntryMap();  // release the buckets too
    // Report a relist in key order, so readers see a deterministic sequence.
    std::sort(changes.begin(), changes.end(),
              [](const CacheChange<T>& a, const CacheChange<T>& b) { return a.key < b.key; });
    Notify(changes);
    {
      std::lock_guard lock(sync_mutex_);
      synced_ = true;
    }
    sync_cv_.notify_all();
  }
  void ApplyEvent(WatchEventType type, nlohmann::json&& object) override {
    std::vector<CacheChange<T>> changes;
    if (type == WatchEventType::kDeleted) {
      std::unique_lock lock(mutex_);
      EraseLocked(ObjectKey(object), &changes);
    } else if (type == WatchEventType::kAdded || type == WatchEventType::kModified) {
      Store(object, &changes);
    }
    Notify(changes);
  }

  // The caller's own write (the server's answer), stored at once without
  // running the change handlers.
  void Record(const nlohmann::json& object) { Store(object, nullptr); }
  // The caller's own delete of `key`, forgotten at once without running the
  // change handlers.
  void Forget(std::string_view key) {
    std::unique_lock lock(mutex_);
    EraseLocked(std::string(key), nullptr);
  }

 private:
  struct Entry {
    std::shared_ptr<const T> value;
    std::uint64_t version = 0;  // VersionFingerprint of the object's resourceVersion
  };
  using EntryMap = std::unordered_map<std::string, Entry>;
  // Index entries point at the keys inside entries_ (stable: the map is
  // node-based), ordered by key text.
  struct KeyLess {
    bool operator()(const std::string* a, const std::string* b) const { return *a < *b; }
  };
  using KeySet = std::set<const std::string*, KeyLess>;

  // resourceVersions are opaque strings compared only for equality; a 64-bit
  // fingerprint (the number itself for etcd's numeric versions) takes 8 bytes
  // instead of a string per entry.
  static std::uint64_t VersionFingerprint(std::string_view version) {
    std::uint64_t number = 0;
    const auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), number);
    if (ec == std::errc{} && end == version.data() + version.size() && !version.empty() &&
        number < (1ull << 63)) {
      return number;
    }
    std::uint64_t hash = 14695981039346656037ull;  // FNV-1a, high bit set
    for (const char c : version)
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return hash | (1ull << 63);
  }

  // Stores an added or modified object (a skipped one is erased); the
  // change goes to `changes` when given. Projects outside the lock.
  void Store(const nlohmann::json& object, std::vector<CacheChange<T>>* changes) {
    std::string key = ObjectKey(object);
    if (key.empty()) return;
    auto value = projection_(object);
    const auto version = VersionFingerprint(ResourceVersionOf(object));
    std::unique_lock lock(mutex_);
    if (!value) {
      EraseLocked(key, changes);
      return;
    }
    Entry entry{std::make_shared<const T>(std::move(*value)), version};
    std::vector<CacheChange<T>> unreported;
    auto& out = changes ? *changes : unreported;
    const auto existing = entries_.find(key);
    if (existing == entries_.end()) {
      out.push_back({key, nullptr, entry.value});
      const auto inserted = entries_.emplace(std::move(key), std::move(entry)).first;
      Index(inserted->first, *inserted->second.value);
    } else {
      StoreLocked(existing, std::move(entry), out);
    }
  }
  void EraseLocked(const std::string& key, std::vector<CacheChange<T>>* changes) {
    const auto existing = entries_.find(key);
    if (existing == entries_.end()) return;
    if (changes) changes->push_back({key, existing->second.value, nullptr});
    Unindex(existing->first, *existing->second.value);
    entries_.erase(existing);
  }
  void StoreLocked(typename EntryMap::iterator existing, Entry&& entry,
                   std::vector<CacheChange<T>>& changes) {
    auto old_value = existing->second.value;
    existing->second.version = entry.version;
    if constexpr (std::equality_comparable<T>) {
      // A change to fields outside the projection is no change to readers.
      if (*old_value == *entry.value) return;
    }
    Unindex(existing->first, *old_value);
    existing->second.value = entry.value;
    Index(existing->first, *entry.value);
    changes.push_back({existing->first, std::move(old_value), std::move(entry.value)});
  }
  void Index(const std::string& key_in_map, const T& value) {
    for (const auto& [name, function] : indexers_) {
      for (auto& index_value : function(value)) {
        indices_[name][std::move(index_value)].insert(&key_in_map);
      }
    }
  }
  void Unindex(const std::string& key_in_map, const T& value) {
    for (const auto& [name, function] : indexers_) {
      auto& index = indices_[name];
      for (const auto& index_value : function(value)) {
        const auto it = index.find(index_value);
        if (it == index.end()) continue;
        it->second.erase(&key_in_map);
        if (it->second.empty()) index.erase(it);
      }
    }
  }
  void Notify(const std::vector<CacheChange<T>>& changes) {
    if (changes.empty()) return;
    std::vector<ChangeHandler> handlers;
    std::vector<BatchHandler> batch_handlers;
    {
      std::shared_lock lock(mutex_);
      handlers = handlers_;
      batch_handlers = batch_handlers_;
    }
    for (const auto& change : changes) {
      for (const auto& handler : handlers)
        handler(change);
    }
    for (const auto& handler : batch_handlers)
      handler(changes);
  }

  const Projection projection_;
  mutable std::shared_mutex mutex_;
  EntryMap entries_;
  std::map<std::string, IndexFunction> indexers_;
  std::map<std::string, std::unordered_map<std::string, KeySet>> indices_;
  std::vector<ChangeHandler> handlers_;
  std::vector<BatchHandler> batch_handlers_;
  EntryMap staged_;  // the list being received; only the writer touches it

  mutable std::mutex sync_mutex_;
  mutable std::condition_variable sync_cv_;
  bool synced_ = false;
};

// A ReflectorSink that hands what it hears to a Cache of its own: the base of
// the classes that wrap a Cache with reads of their own (the reflector feeds
// the class, the class reads the cache).
template <typename T>
class CachedSink : public ReflectorSink {
 public:
  explicit CachedSink(typename Cache<T>::Projection projection) : cache_(std::move(projection)) {}

  void BeginReplace() override { cache_.BeginReplace(); }
  void ReplaceItem(nlohmann::json&& object) override { cache_.ReplaceItem(std::move(object)); }
  void EndReplace() override { cache_.EndReplace(); }
  void AbortReplace() override { cache_.AbortReplace(); }
  void ApplyEvent(WatchEventType type, nlohmann::json&& object) override {
    cache_.ApplyEvent(type, std::move(object));
  }

 protected:
  Cache<T> cache_;
};

}  // namespace globalsvc::kube
