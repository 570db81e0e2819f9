#include "controller/owned_objects.h"

#include "lib/mesh/model.h"

namespace globalsvc::controller {

std::string StringAt(const nlohmann::json& object, const char* outer, const char* inner) {
  if (!object.is_object()) return {};
  auto a = object.find(outer);
  if (a == object.end() || !a->is_object()) return {};
  auto b = a->find(inner);
  return b != a->end() && b->is_string() ? b->get<std::string>() : std::string();
}

bool IsManagedByGlobalsvc(const nlohmann::json& object) {
  if (!object.is_object()) return false;
  auto metadata = object.find("metadata");
  return metadata != object.end() &&
         StringAt(*metadata, "labels", mesh::kManagedByLabel) == mesh::kManagedByValue;
}

std::string ManagedBySelector() {
  return std::string(mesh::kManagedByLabel) + "=" + mesh::kManagedByValue;
}

}  // namespace globalsvc::controller
