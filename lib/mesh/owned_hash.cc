#include "lib/mesh/owned_hash.h"

#include "lib/base/hash.h"
#include "lib/base/json_fields.h"
#include "lib/base/json_hash.h"
#include "lib/mesh/istio_objects.h"

namespace globalsvc::mesh {
namespace {

// A member, or a mark that it is absent: {"a": 1} and {"b": 1} differ.
void AddMember(Fnv1a64Stream& hash, const nlohmann::json* object, std::string_view key) {
  hash.AddString(key);
  const nlohmann::json* value = object != nullptr ? SetFieldOf(*object, key) : nullptr;
  if (value == nullptr) {
    hash.AddTag('-');
    return;
  }
  hash.AddTag('+');
  hash.AddJson(*value);
}

void AddMembers(Fnv1a64Stream& hash, const nlohmann::json* object,
                const std::vector<std::string_view>& keys) {
  for (const std::string_view key : keys)
    AddMember(hash, object, key);
}

void AddMetadata(Fnv1a64Stream& hash, const nlohmann::json& metadata, const OwnedFieldList& owned) {
  AddMember(hash, &metadata, "name");
  AddMember(hash, &metadata, "namespace");
  const nlohmann::json* labels = SetFieldOf(metadata, "labels");
  const nlohmann::json* annotations = SetFieldOf(metadata, "annotations");
  hash.AddTag('L');
  AddMembers(hash, labels, owned.labels);
  if (!owned.labels_named_by.empty() && annotations != nullptr) {
    for (const std::string& key :
         AnnotationList(StringFieldAt(*annotations, {owned.labels_named_by}))) {
      AddMember(hash, labels, key);
    }
  }
  hash.AddTag('A');
  AddMembers(hash, annotations, owned.annotations);
}

}  // namespace

std::string OwnedFieldsHash(const nlohmann::json& object, const OwnedFieldList& owned) {
  Fnv1a64Stream hash;
  AddMember(hash, &object, "apiVersion");
  AddMember(hash, &object, "kind");
  if (const nlohmann::json* metadata = SetFieldOf(object, "metadata")) {
    hash.AddTag('M');
    AddMetadata(hash, *metadata, owned);
  }
  if (const nlohmann::json* spec = SetFieldOf(object, "spec")) {
    hash.AddTag('S');
    AddMembers(hash, spec, owned.spec);
  }
  return HexHash(hash.value());
}

}  // namespace globalsvc::mesh
