#pragma once

// The hash that tells whether a write would change anything globalsvc owns:
// computed the same way for the object it wants and the copy the API server
// holds, over the listed fields only (other writers' labels, status and
// server-set metadata do not count).

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace globalsvc::mesh {

struct OwnedFieldList {
  std::vector<std::string_view> labels;
  std::vector<std::string_view> annotations;
  std::vector<std::string_view> spec;
  // When set: the annotation naming more owned labels (comma-separated).
  std::string_view labels_named_by;
};

// apiVersion, kind, metadata name/namespace, the listed labels, annotations
// and spec fields; absent and null read the same. Hashed as it is walked:
// nothing is copied or dumped.
[[nodiscard]] std::string OwnedFieldsHash(const nlohmann::json& object,
                                          const OwnedFieldList& owned);

}  // namespace globalsvc::mesh
