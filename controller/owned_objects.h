#pragma once

// Reading globalsvc's own objects (ServiceEntries, GlobalService and
// RemoteCluster status) back from the API server: a field that may be absent
// or of the wrong type reads as empty, and "ours" is the managed-by label.

#include <nlohmann/json.hpp>
#include <string>

namespace globalsvc::controller {

// object[outer][inner] when both are present and it is a string, else "".
std::string StringAt(const nlohmann::json& object, const char* outer, const char* inner);

// metadata.labels carries app.kubernetes.io/managed-by=globalsvc.
bool IsManagedByGlobalsvc(const nlohmann::json& object);

// The label selector for objects carrying that label.
std::string ManagedBySelector();

}  // namespace globalsvc::controller
