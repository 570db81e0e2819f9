#include "lib/kube/kube_client.h"

#include <algorithm>
#include <unordered_set>

#include "lib/base/json_fields.h"
#include "lib/base/utf8.h"
#include "lib/kube/api_error.h"
#include "lib/kube/json_parser.h"
#include "lib/kube/logger.h"
#include "lib/kube/reflector_sink.h"
#include "lib/kube/rest_transport.h"

namespace globalsvc::kube {
namespace {

using nlohmann::json;

void AddQuery(std::string& path, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  path += path.find('?') == std::string::npos ? '?' : '&';
  path += key;
  path += '=';
  path += EscapeQueryValue(value);
}

std::string WatchPath(const ResourceType& type, std::string_view namespace_name,
                      const WatchOptions& options) {
  std::string path = type.CollectionPath(namespace_name);
  AddQuery(path, "watch", "1");
  AddQuery(path, "resourceVersion", options.resource_version);
  if (options.allow_bookmarks) AddQuery(path, "allowWatchBookmarks", "true");
  AddQuery(path, "labelSelector", options.label_selector);
  AddQuery(path, "fieldSelector", options.field_selector);
  AddQuery(path, "timeoutSeconds", std::to_string(options.timeout.count()));
  return path;
}

// The server ends the watch at its timeout; the read timeout catches a
// connection that died silently.
std::chrono::seconds WatchReadTimeout(const WatchOptions& options) {
  return std::min(options.timeout + std::chrono::seconds(30),
                  std::max(options.silence_timeout, std::chrono::seconds(1)));
}

std::string NameOf(const json& object) {
  return StringFieldAt(object, {"metadata", "name"});
}

// An ERROR event's Status becomes the error its code stands for.
Error ErrorFromStatusObject(const json& status, std::string_view what) {
  const auto code = IntFieldAt(status, {"code"});
  const int http_status = code && *code >= 100 && *code <= 599 ? static_cast<int>(*code) : 500;
  return ErrorFromResponse(http_status, DumpJson(status), {}, what);
}

// The request body. An object holding text that is not UTF-8 cannot be sent
// as JSON: that is the caller's input error, never an exception.
Result<std::string> BodyOf(const json& object, std::string_view what) {
  try {
    return object.dump();
  } catch (const json::exception&) {
    return MakeError(ErrorCode::kInvalidInput,
                     std::string(what) + ": the object holds text that is not valid UTF-8");
  }
}

}  // namespace

Result<ListPage> DecodeListPage(json&& page) {
  const auto malformed = [](const char* why) { return MakeError(ErrorCode::kUnavailable, why); };
  json* metadata = page.is_object() && page.contains("metadata") ? &page["metadata"] : nullptr;
  if (metadata == nullptr || !metadata->is_object()) return malformed("list without metadata");
  ListPage decoded;
  decoded.resource_version = StringFieldAt(*metadata, {"resourceVersion"});
  decoded.continue_token = StringFieldAt(*metadata, {"continue"});
  if (auto items = page.find("items"); items != page.end() && !items->is_null()) {
    if (!items->is_array()) return malformed("list whose items are not an array");
    decoded.items.reserve(items->size());
    for (auto& item : *items) {
      if (!item.is_object()) return malformed("list with an item that is not an object");
      decoded.items.push_back(std::move(item));
    }
  }
  return decoded;
}

Result<std::unique_ptr<KubeClient>> KubeClient::Create(const ClusterConfig& cluster, Clock& clock,
                                                       TransportOptions options) {
  auto transport = RestTransport::Create(cluster, clock, std::move(options));
  if (!transport.ok()) return transport.error();
  return std::unique_ptr<KubeClient>(new KubeClient(std::move(*transport)));
}

KubeClient::KubeClient(std::unique_ptr<RestTransport> transport)
    : transport_(std::move(transport)) {}

Result<json> KubeClient::Call(std::string_view method, const std::string& path,
                              const std::string& body, std::string_view content_type) {
  auto response = transport_->Send(method, path, body, content_type);
  if (!response.ok()) return response.error();
  const std::string what = "cluster " + cluster_name() + ": " + std::string(method) + " " + path;
  if (response->status < 200 || response->status >= 300) {
    return ErrorFromResponse(response->status, response->body, response->retry_after, what);
  }
  auto doc = ParseJson(response->body);
  if (!doc) return MakeError(ErrorCode::kUnavailable, what + ": the response is not JSON");
  return std::move(*doc);
}

Result<json> KubeClient::Get(const ResourceType& type, std::string_view namespace_name,
                             std::string_view name) {
  return Call("GET", type.ObjectPath(namespace_name, name));
}

Result<KubeClient::ListSummary> KubeClient::ListEach(const ResourceType& type,
                                                     std::string_view namespace_name,
                                                     const ListOptions& options,
                                                     const std::function<void(json&&)>& on_item) {
  std::string continue_token;
  ListSummary summary;
  std::int64_t items_seen = 0;
  std::int64_t limit = options.limit;
  std::unordered_set<std::string> seen;
  while (true) {
    std::string path = type.CollectionPath(namespace_name);
    AddQuery(path, "labelSelector", options.label_selector);
    AddQuery(path, "fieldSelector", options.field_selector);
    if (limit > 0) AddQuery(path, "limit", std::to_string(limit));
    AddQuery(path, "continue", continue_token);
    auto page = Call("GET", path);
    if (!page.ok()) {
      // A page over the size cap is asked for again in smaller pages (a
      // continue token does not depend on the page size); an answer that
      // stays too large at one item per page is an error.
      if (page.error().http_status == kTooLargeStatus && limit > 1) {
        limit = std::max<std::int64_t>(1, limit / 8);
        continue;
      }
      return page.error();
    }
    auto decoded = DecodeListPage(std::move(*page));
    if (!decoded.ok()) {
      return MakeError(decoded.error().code, "cluster " + cluster_name() + ": GET " + path + ": " +
                                                 decoded.error().message);
    }
    // Every page of one list shares the first page's snapshot.
    if (summary.pages++ == 0) summary.resource_version = std::move(decoded->resource_version);
    items_seen += static_cast<std::int64_t>(decoded->items.size());
    if (items_seen > options.max_items || summary.pages > options.max_pages ||
        (!decoded->continue_token.empty() && decoded->continue_token == continue_token)) {
      return MakeError(ErrorCode::kUnavailable,
                       "cluster " + cluster_name() + ": list " + type.plural +
                           ": the list does not end (more than " +
                           std::to_string(options.max_items) + " items, more than " +
                           std::to_string(options.max_pages) +
                           " pages, or the same continue token twice); not used");
    }
    continue_token = options.first_page_only ? std::string() : std::move(decoded->continue_token);
    limit = options.limit;  // a smaller page was needed for this one only
    for (auto& item : decoded->items) {
      // A list names each object once; a server that hands out the same
      // objects again (a continue token that leads back) would never end.
      if (!seen.insert(ObjectKey(item)).second) {
        return MakeError(ErrorCode::kUnavailable, "cluster " + cluster_name() + ": list " +
                                                      type.plural + ": object " +
                                                      ShortUtf8(ObjectKey(item), 256) +
                                                      " listed twice; the list is not used");
      }
      on_item(std::move(item));
    }
    if (continue_token.empty()) break;
  }
  return summary;
}

Result<KubeClient::ListResult> KubeClient::List(const ResourceType& type,
                                                std::string_view namespace_name,
                                                const ListOptions& options) {
  ListResult result;
  auto summary = ListEach(type, namespace_name, options,
                          [&](json&& item) { result.items.push_back(std::move(item)); });
  if (!summary.ok()) return summary.error();
  result.resource_version = std::move(summary->resource_version);
  result.pages = summary->pages;
  return result;
}

Status KubeClient::Watch(const ResourceType& type, std::string_view namespace_name,
                         const WatchOptions& options, const WatchDecoder::EventHandler& on_event,
                         std::stop_token stop) {
  const std::string path = WatchPath(type, namespace_name, options);
  const std::string what = "cluster " + cluster_name() + ": watch " + path;

  WatchDecoder decoder;
  std::optional<Error> failure;
  auto last_data = std::chrono::steady_clock::now();
  bool received = false;  // the server answered on this connection (a 2xx status)
  const auto read_timeout = WatchReadTimeout(options);
  auto response = transport_->Stream(
      path,
      [&](std::string_view chunk) {
        last_data = std::chrono::steady_clock::now();
        auto keep_going = decoder.Feed(chunk, [&](WatchEvent&& event) {
          if (event.type == WatchEventType::kError) {
            failure = ErrorFromStatusObject(event.object, what);
            return false;
          }
          return on_event(std::move(event));
        });
        if (!keep_going.ok()) {
          failure = MakeError(keep_going.error().code, what + ": " + keep_going.error().message);
          return false;
        }
        return *keep_going;
      },
      stop, read_timeout,
      // A watch on a quiet resource gets its headers and then nothing until
      // the first bookmark, which an idle API server may send only after
      // more than a minute.
      [&](int status) {
        last_data = std::chrono::steady_clock::now();
        received = status >= 200 && status < 300;
      });
  if (failure) return *failure;
  if (!response.ok()) {
    // Silence for the whole read timeout on a watch the server had answered:
    // end it quietly, the caller resumes from its last version on a fresh
    // connection (and finds out then whether the server is reachable).
    if (received && response.error().code == ErrorCode::kUnavailable &&
        std::chrono::steady_clock::now() - last_data >= read_timeout - std::chrono::seconds(1) &&
        decoder.pending_bytes() == 0 && !stop.stop_requested()) {
      // Debug: on an idle cluster this is routine (about every
      // silence_timeout); a dead server shows in the next attempt's error.
      Log().Debug(
          "watch silent, watching again",
          {{"cluster", cluster_name()}, {"path", path}, {"silent_for_s", read_timeout.count()}});
      return Ok{};
    }
    return response.error();
  }
  if (response->status < 200 || response->status >= 300) {
    return ErrorFromResponse(response->status, response->body, response->retry_after, what);
  }
  return Ok{};
}

Result<json> KubeClient::Create(const ResourceType& type, std::string_view namespace_name,
                                const json& object) {
  const std::string path = type.CollectionPath(namespace_name);
  auto body = BodyOf(object, "POST " + path);
  if (!body.ok()) return body.error();
  return Call("POST", path, *body, "application/json");
}

Result<json> KubeClient::Update(const ResourceType& type, std::string_view namespace_name,
                                const json& object, std::string_view subresource) {
  const std::string name = NameOf(object);
  if (name.empty()) return MakeError(ErrorCode::kInvalidInput, "update: metadata.name missing");
  const std::string path = type.ObjectPath(namespace_name, name, subresource);
  auto body = BodyOf(object, "PUT " + path);
  if (!body.ok()) return body.error();
  return Call("PUT", path, *body, "application/json");
}

Result<json> KubeClient::Apply(const ResourceType& type, std::string_view namespace_name,
                               const json& object, const ApplyOptions& options) {
  const std::string name = NameOf(object);
  if (name.empty()) return MakeError(ErrorCode::kInvalidInput, "apply: metadata.name missing");
  if (options.field_manager.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "apply: a field manager is required");
  }
  std::string path = type.ObjectPath(namespace_name, name, options.subresource);
  AddQuery(path, "fieldManager", options.field_manager);
  if (options.force) AddQuery(path, "force", "true");
  // JSON is YAML, so the apply patch needs no YAML emitter.
  auto body = BodyOf(object, "PATCH " + path);
  if (!body.ok()) return body.error();
  return Call("PATCH", path, *body, "application/apply-patch+yaml");
}

Status KubeClient::Delete(const ResourceType& type, std::string_view namespace_name,
                          std::string_view name, const DeleteOptions& options) {
  json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!options.uid.empty()) body["preconditions"]["uid"] = options.uid;
  if (!options.resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.resource_version;
  }
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  auto result =
      Call("DELETE", type.ObjectPath(namespace_name, name), DumpJson(body), "application/json");
  if (!result.ok()) return result.error();
  return Ok{};
}

}  // namespace globalsvc::kube
