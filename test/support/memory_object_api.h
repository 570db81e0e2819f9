#pragma once

// kube::ObjectApi kept in memory, for unit tests of the parts that write:
// enough of the API server's rules that a part's policy can be checked
// without servers, never a stand-in for the real thing (the test bed judges
// real behaviour).
//
// What it keeps of the API server:
// - names are unique per resource and namespace; a create of an existing
//   name is kConflict; uid and resourceVersion are assigned on every write;
// - delete preconditions (uid, resourceVersion) fail with kConflict;
// - update with a stale metadata.resourceVersion is kConflict; a status
//   update changes only `status`, a main update keeps it;
// - server-side apply creates or merges: metadata labels and annotations are
//   merged key by key, every other top-level field the applied object names
//   is replaced; a field last applied by another manager with a different
//   value is kConflict unless forced;
// - list filters by namespace and by equality label selectors (`k=v`,
//   `k!=v`, `k`, `!k`, comma-separated).
// - a watch (Watch()) lists into a reflector sink, then hands it every later
//   change as an ADDED, MODIFIED or DELETED event, in the order made, before
//   the call that made it returns (as a fast watch can: the event before the
//   answer); HoldEvents() keeps them back, as a slow watch would (the answer
//   first), until released or DeliverEvents().
// What it does not: field selectors (kInvalidInput), defaulting, validation,
// garbage collection, watch expiry.
//
// Thread-safe. Every call is counted by verb; FailNext() makes the next call
// of a verb fail with a given error.

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "lib/kube/object_api.h"
#include "lib/kube/reflector_sink.h"

namespace globalsvc::testsupport {

class MemoryObjectApi final : public kube::ObjectApi {
 public:
  [[nodiscard]] Result<nlohmann::json> Get(const kube::ResourceType& type,
                                           std::string_view namespace_name,
                                           std::string_view name) override;
  [[nodiscard]] Result<kube::ListResult> List(const kube::ResourceType& type,
                                              std::string_view namespace_name,
                                              const kube::ListOptions& options = {}) override;
  [[nodiscard]] Result<nlohmann::json> Create(const kube::ResourceType& type,
                                              std::string_view namespace_name,
                                              const nlohmann::json& object) override;
  [[nodiscard]] Result<nlohmann::json> Update(const kube::ResourceType& type,
                                              std::string_view namespace_name,
                                              const nlohmann::json& object,
                                              std::string_view subresource = {}) override;
  [[nodiscard]] Result<nlohmann::json> Apply(const kube::ResourceType& type,
                                             std::string_view namespace_name,
                                             const nlohmann::json& object,
                                             const kube::ApplyOptions& options) override;
  [[nodiscard]] Status Delete(const kube::ResourceType& type, std::string_view namespace_name,
                              std::string_view name,
                              const kube::DeleteOptions& options = {}) override;

  // Stores `object` as is (uid and resourceVersion assigned when absent), as
  // another writer would have: the test's starting state.
  nlohmann::json Seed(const kube::ResourceType& type, const nlohmann::json& object);
  // The stored object; nullopt when absent.
  [[nodiscard]] std::optional<nlohmann::json> Find(const kube::ResourceType& type,
                                                   std::string_view namespace_name,
                                                   std::string_view name) const;
  // Calls so far of a verb: "get", "list", "create", "update", "apply",
  // "delete" (failed ones included).
  [[nodiscard]] int Calls(const std::string& verb) const;
  // Writes so far: create, update, apply and delete.
  [[nodiscard]] int Writes() const;
  void FailNext(const std::string& verb, Error error);
  // Runs `action` (which may call this object) at the start of the next
  // write of `verb` ("create", "update", "apply", "delete"), before it is
  // made: another writer's change racing the caller's.
  void BeforeNext(const std::string& verb, std::function<void()> action);

  // Lists `type` in `namespace_name` (empty: every namespace) into `sink`,
  // then feeds it every change. `sink` must outlive this object's writes.
  void Watch(const kube::ResourceType& type, std::string namespace_name, kube::ReflectorSink& sink);
  // While held, events wait; DeliverEvents() hands on those waiting.
  void HoldEvents(bool hold);
  void DeliverEvents();

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // resource, namespace, name
  struct Stored {
    nlohmann::json object;
    std::map<std::string, nlohmann::json> applied;  // field manager -> its last applied object
  };

  static Key KeyOf(const kube::ResourceType& type, std::string_view namespace_name,
                   std::string_view name);
  // Counts the call; the injected failure of the verb, if any.
  std::optional<Error> Begin(const std::string& verb);
  void Stamp(nlohmann::json& object);
  void RunBefore(const std::string& verb);
  // Records an event of the stored object `object` under `key` (mutex held).
  void Emit(const Key& key, kube::WatchEventType type, const nlohmann::json& object);
  // Hands waiting events to their watchers unless held; never under mutex_.
  void Deliver(bool even_if_held = false);

  class DeliverAfter;
  struct Watcher {
    std::string resource;
    std::string namespace_name;
    kube::ReflectorSink* sink;
  };
  struct Event {
    Key key;
    kube::WatchEventType type;
    nlohmann::json object;
  };
  // Taken before mutex_ by Deliver(): events reach sinks in the order made.
  std::mutex delivery_mutex_;
  std::vector<Watcher> watchers_;
  std::vector<Event> events_;
  bool hold_events_ = false;

  mutable std::mutex mutex_;
  std::map<Key, Stored> objects_;
  std::map<std::string, int> calls_;
  std::map<std::string, Error> failures_;
  std::map<std::string, std::function<void()>> before_;
  std::uint64_t version_ = 0;
};

}  // namespace globalsvc::testsupport
