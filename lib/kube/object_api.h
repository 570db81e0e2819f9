#pragma once

// The object calls a controller makes on one cluster: get, list, create,
// update, server-side apply and delete with preconditions, on JSON objects.
// KubeClient implements it over HTTP; unit tests of the parts that write use
// an in-memory implementation, so each part's policy (what it writes, what it
// never touches) is tested without servers. Watches are not part of it: they
// go through Reflector.
//
// Every failure is a classified Error (api_error.h): kNotFound, kConflict
// (a failed precondition, or a create of an existing name), and so on.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/kube/resource_type.h"

namespace globalsvc::kube {

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::int64_t limit = 500;  // page size; 0 asks for everything at once
  // A list that goes on longer than this (a server may hand out continue
  // tokens forever) is an error.
  std::int64_t max_items = 1'000'000;
  std::int64_t max_pages = 10'000;
  // Read the first page only (a probe that the server answers), whatever
  // continue token it carries.
  bool first_page_only = false;
};

struct ApplyOptions {
  std::string field_manager;  // required
  bool force = false;         // take over fields other managers own
  std::string subresource;    // "" or "status"
};

// Preconditions: the delete happens only if the object still has this uid /
// resourceVersion.
struct DeleteOptions {
  std::string uid;
  std::string resource_version;
  std::string propagation_policy;  // "", "Foreground", "Background", "Orphan"
};

struct ListResult {
  std::vector<nlohmann::json> items;
  std::string resource_version;
  int pages = 0;
};

class ObjectApi {
 public:
  virtual ~ObjectApi() = default;

  [[nodiscard]] virtual Result<nlohmann::json> Get(const ResourceType& type,
                                                   std::string_view namespace_name,
                                                   std::string_view name) = 0;
  [[nodiscard]] virtual Result<ListResult> List(const ResourceType& type,
                                                std::string_view namespace_name,
                                                const ListOptions& options = {}) = 0;
  [[nodiscard]] virtual Result<nlohmann::json> Create(const ResourceType& type,
                                                      std::string_view namespace_name,
                                                      const nlohmann::json& object) = 0;
  // PUT: optimistic concurrency through metadata.resourceVersion (kConflict
  // when stale). `subresource` "status" writes only the status.
  [[nodiscard]] virtual Result<nlohmann::json> Update(const ResourceType& type,
                                                      std::string_view namespace_name,
                                                      const nlohmann::json& object,
                                                      std::string_view subresource = {}) = 0;
  [[nodiscard]] Result<nlohmann::json> UpdateStatus(const ResourceType& type,
                                                    std::string_view namespace_name,
                                                    const nlohmann::json& object) {
    return Update(type, namespace_name, object, "status");
  }
  // Server-side apply of `object` (which names apiVersion, kind and
  // metadata.name) as `options.field_manager`.
  [[nodiscard]] virtual Result<nlohmann::json> Apply(const ResourceType& type,
                                                     std::string_view namespace_name,
                                                     const nlohmann::json& object,
                                                     const ApplyOptions& options) = 0;
  [[nodiscard]] virtual Status Delete(const ResourceType& type, std::string_view namespace_name,
                                      std::string_view name, const DeleteOptions& options = {}) = 0;
};

}  // namespace globalsvc::kube
