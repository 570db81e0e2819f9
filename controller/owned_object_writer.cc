#include "controller/owned_object_writer.h"

#include <string>

#include "controller/owned_objects.h"
#include "lib/mesh/model.h"

namespace globalsvc::controller {

namespace {

std::string NameOf(std::string_view namespace_name, const nlohmann::json& object) {
  return std::string(namespace_name) + "/" + StringAt(object, "metadata", "name");
}

}  // namespace

OwnedObjectWriter::OwnedObjectWriter(kube::ObjectApi& client, std::function<bool()> may_write)
    : client_(client), may_write_(std::move(may_write)) {}

std::optional<Error> OwnedObjectWriter::Refusal(const nlohmann::json& object, Observed observed,
                                                bool whole) const {
  if (!may_write()) {
    return MakeError(ErrorCode::kUnavailable, "not the leader: writes are paused");
  }
  // Not retryable: only a change of the object (its label, or its removal)
  // makes writing it right, and that change arrives as a watch event.
  if (observed == Observed::kForeign) {
    return MakeError(ErrorCode::kInvalidInput,
                     "exists and is not managed by globalsvc: left untouched");
  }
  // A whole object without our label would drop the label that marks it ours.
  if (whole && !IsManagedByGlobalsvc(object)) {
    return MakeError(ErrorCode::kInternal, "refusing to write an object without the label " +
                                               std::string(mesh::kManagedByLabel));
  }
  return std::nullopt;
}

Result<nlohmann::json> OwnedObjectWriter::Apply(const kube::ResourceType& type,
                                                std::string_view namespace_name,
                                                const nlohmann::json& object, Observed observed) {
  if (auto refused = Refusal(object, observed, true)) {
    return MakeError(refused->code, NameOf(namespace_name, object) + ": " + refused->message);
  }
  kube::ApplyOptions apply;
  apply.field_manager = kFieldManager;
  apply.force = true;  // ours, or absent: no one else's fields are taken
  return client_.Apply(type, namespace_name, object, apply);
}

Result<nlohmann::json> OwnedObjectWriter::ApplyStatus(const kube::ResourceType& type,
                                                      std::string_view namespace_name,
                                                      const nlohmann::json& object,
                                                      Observed observed) {
  if (observed == Observed::kAbsent) {
    return MakeError(ErrorCode::kNotFound,
                     NameOf(namespace_name, object) + ": create the object before its status");
  }
  if (auto refused = Refusal(object, observed, false)) {
    return MakeError(refused->code, NameOf(namespace_name, object) + ": " + refused->message);
  }
  kube::ApplyOptions apply;
  apply.field_manager = kFieldManager;
  apply.force = true;
  apply.subresource = "status";
  return client_.Apply(type, namespace_name, object, apply);
}

Result<nlohmann::json> OwnedObjectWriter::Create(const kube::ResourceType& type,
                                                 std::string_view namespace_name,
                                                 const nlohmann::json& object) {
  if (auto refused = Refusal(object, Observed::kAbsent, true)) {
    return MakeError(refused->code, NameOf(namespace_name, object) + ": " + refused->message);
  }
  return client_.Create(type, namespace_name, object);
}

Result<Deleted> OwnedObjectWriter::Delete(const kube::ResourceType& type,
                                          std::string_view namespace_name, std::string_view name,
                                          const std::string& uid) {
  const std::string full_name = std::string(namespace_name) + "/" + std::string(name);
  if (!may_write()) {
    return MakeError(ErrorCode::kUnavailable, full_name + ": not the leader: writes are paused");
  }
  if (uid.empty()) {
    return MakeError(ErrorCode::kInternal,
                     full_name + ": refusing to delete without the uid observed");
  }
  kube::DeleteOptions options;
  options.uid = uid;
  auto deleted = client_.Delete(type, namespace_name, name, options);
  if (deleted.ok()) return Deleted::kNow;
  if (deleted.error().code == ErrorCode::kNotFound) return Deleted::kAlreadyGone;
  return deleted.error();
}

}  // namespace globalsvc::controller
