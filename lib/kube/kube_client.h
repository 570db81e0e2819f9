#pragma once

// Kubernetes API operations on one cluster, on JSON objects, over HTTP: the
// ObjectApi calls (object_api.h), plus paged list with a callback per item
// and watch. Every failure comes back as a classified Error (see
// api_error.h) naming the cluster and the request. Thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/kube/clock.h"
#include "lib/kube/kubeconfig.h"
#include "lib/kube/object_api.h"
#include "lib/kube/resource_type.h"
#include "lib/kube/rest_transport.h"
#include "lib/kube/watch_decoder.h"

namespace globalsvc::kube {

struct WatchOptions {
  std::string resource_version;  // start after this version
  std::string label_selector;
  std::string field_selector;
  std::chrono::seconds timeout{300};  // the server ends the watch after this
  bool allow_bookmarks = true;
  // A watch that receives nothing this long (API servers send a bookmark
  // about every minute) ends: as if the server had ended it when the server
  // had answered it with a 2xx status (the caller watches again from its last
  // version), else with an error. A connection that died without a word (a network
  // partition) is noticed in this time, not at the watch's timeout.
  std::chrono::seconds silence_timeout{90};
};

// One page of a list answer, every field checked: whatever answered may not
// be an API server (a proxy, a hostile endpoint), so a body of the wrong shape
// is an error (kUnavailable: retried), never an exception.
struct ListPage {
  std::string resource_version;
  std::string continue_token;
  std::vector<nlohmann::json> items;  // each an object
};
[[nodiscard]] Result<ListPage> DecodeListPage(nlohmann::json&& page);

class KubeClient final : public ObjectApi {
 public:
  static Result<std::unique_ptr<KubeClient>> Create(const ClusterConfig& cluster,
                                                    Clock& clock = SystemClock::Instance(),
                                                    TransportOptions options = {});

  [[nodiscard]] Result<nlohmann::json> Get(const ResourceType& type,
                                           std::string_view namespace_name,
                                           std::string_view name) override;

  struct ListSummary {
    std::string resource_version;  // where a watch should start
    int pages = 0;
  };
  // Lists every page (limit/continue), handing each item to `on_item` as its
  // page arrives, so a caller that keeps a projection never holds the whole
  // list. An expired continue token is kGone: list again from the start.
  [[nodiscard]] Result<ListSummary> ListEach(const ResourceType& type,
                                             std::string_view namespace_name,
                                             const ListOptions& options,
                                             const std::function<void(nlohmann::json&&)>& on_item);

  using ListResult = kube::ListResult;
  [[nodiscard]] Result<ListResult> List(const ResourceType& type, std::string_view namespace_name,
                                        const ListOptions& options = {}) override;

  // Streams events to `on_event` (ADDED, MODIFIED, DELETED, BOOKMARK) until
  // the server ends the watch (Ok), `on_event` returns false or `stop` is
  // requested (Ok), or an error: an ERROR event is turned into its classified
  // error (410 → kGone: relist).
  [[nodiscard]] Status Watch(const ResourceType& type, std::string_view namespace_name,
                             const WatchOptions& options,
                             const WatchDecoder::EventHandler& on_event, std::stop_token stop);

  [[nodiscard]] Result<nlohmann::json> Create(const ResourceType& type,
                                              std::string_view namespace_name,
                                              const nlohmann::json& object) override;
  [[nodiscard]] Result<nlohmann::json> Update(const ResourceType& type,
                                              std::string_view namespace_name,
                                              const nlohmann::json& object,
                                              std::string_view subresource = {}) override;
  [[nodiscard]] Result<nlohmann::json> Apply(const ResourceType& type,
                                             std::string_view namespace_name,
                                             const nlohmann::json& object,
                                             const ApplyOptions& options) override;
  [[nodiscard]] Status Delete(const ResourceType& type, std::string_view namespace_name,
                              std::string_view name, const DeleteOptions& options = {}) override;

  [[nodiscard]] const std::string& cluster_name() const { return transport_->cluster_name(); }
  // Ends every request in flight and fails every later one (see
  // RestTransport::CancelAll): for stopping a cluster without waiting on it.
  void CancelAll() { transport_->CancelAll(); }

 private:
  explicit KubeClient(std::unique_ptr<RestTransport> transport);
  Result<nlohmann::json> Call(std::string_view method, const std::string& path,
                              const std::string& body = {}, std::string_view content_type = {});

  std::unique_ptr<RestTransport> transport_;
};

}  // namespace globalsvc::kube
