#include "lib/kube/reflector_sink.h"

namespace globalsvc::kube {

std::string ObjectKey(const nlohmann::json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  const auto name = metadata->find("name");
  if (name == metadata->end() || !name->is_string()) return {};
  const auto ns = metadata->find("namespace");
  if (ns == metadata->end() || !ns->is_string() || ns->get_ref<const std::string&>().empty()) {
    return name->get<std::string>();
  }
  return ns->get<std::string>() + "/" + name->get<std::string>();
}

std::string ObjectKey(std::string_view namespace_name, std::string_view name) {
  if (namespace_name.empty()) return std::string(name);
  std::string key;
  key.reserve(namespace_name.size() + 1 + name.size());
  key.append(namespace_name).append("/").append(name);
  return key;
}

ObjectKeyParts SplitObjectKey(std::string_view key) {
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) return {{}, key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

std::string ResourceVersionOf(const nlohmann::json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  const auto version = metadata->find("resourceVersion");
  if (version == metadata->end() || !version->is_string()) return {};
  return version->get<std::string>();
}

}  // namespace globalsvc::kube
