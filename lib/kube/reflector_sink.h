#pragma once

// What a Reflector feeds: the seam between the (untyped) list/watch loop and a
// typed Cache<T>.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "lib/kube/watch_decoder.h"

namespace globalsvc::kube {

class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;

  // A full list replaces the contents: BeginReplace, one ReplaceItem per
  // listed object, then EndReplace, which reports only the differences (an
  // object that still exists is never reported deleted). AbortReplace drops a
  // list that failed half-way.
  virtual void BeginReplace() = 0;
  virtual void ReplaceItem(nlohmann::json&& object) = 0;
  virtual void EndReplace() = 0;
  virtual void AbortReplace() = 0;

  // One ADDED, MODIFIED or DELETED event.
  virtual void ApplyEvent(WatchEventType type, nlohmann::json&& object) = 0;
};

// "namespace/name", or "name" for cluster-scoped objects.
[[nodiscard]] std::string ObjectKey(const nlohmann::json& object);
// The same key from its parts: "<namespace>/<name>", or the name alone.
[[nodiscard]] std::string ObjectKey(std::string_view namespace_name, std::string_view name);

// The parts of an ObjectKey() (views into `key`); a key without a slash is a
// cluster-scoped object's: no namespace.
struct ObjectKeyParts {
  std::string_view namespace_name;
  std::string_view name;
};
[[nodiscard]] ObjectKeyParts SplitObjectKey(std::string_view key);
[[nodiscard]] std::string ResourceVersionOf(const nlohmann::json& object);

}  // namespace globalsvc::kube
