// Tests of the small building blocks: backoff, rate limiter, error
// classification, server URLs, timestamps, resource paths.

#include <catch2/catch.hpp>

#include "lib/base/utf8.h"
#include "lib/kube/api_error.h"
#include "lib/kube/backoff.h"
#include "lib/kube/kube_client.h"
#include "lib/kube/rate_limiter.h"
#include "lib/kube/reflector_sink.h"
#include "lib/kube/resource_type.h"
#include "lib/kube/server_url.h"

namespace globalsvc::kube {
namespace {

using std::chrono::milliseconds;

TEST_CASE("Backoff grows exponentially with jitter below the cap and resets", "[kube][backoff]") {
  Backoff backoff({milliseconds(100), milliseconds(1000), 2.0, 0.5}, 42);
  const std::vector<long> bases = {100, 200, 400, 800, 1000, 1000};
  for (const long base : bases) {
    const auto delay = backoff.Next().count();
    CHECK(delay <= base);
    CHECK(delay >= base / 2);
  }
  backoff.Reset();
  CHECK(backoff.Next().count() <= 100);
  Backoff exact({milliseconds(100), milliseconds(1000), 2.0, 0.0}, 1);
  CHECK(exact.Next() == milliseconds(100));
  CHECK(exact.Next() == milliseconds(200));
}

TEST_CASE("Rate limiter allows a burst, then qps", "[kube][ratelimit]") {
  ManualClock clock;
  RateLimiter limiter(10, 3, clock);
  CHECK(limiter.TryAcquire());
  CHECK(limiter.TryAcquire());
  CHECK(limiter.TryAcquire());
  CHECK_FALSE(limiter.TryAcquire());
  clock.Advance(milliseconds(100));
  CHECK(limiter.TryAcquire());
  CHECK_FALSE(limiter.TryAcquire());
  clock.Advance(std::chrono::seconds(10));
  for (int i = 0; i < 3; ++i)
    CHECK(limiter.TryAcquire());
  CHECK_FALSE(limiter.TryAcquire());
}

TEST_CASE("HTTP answers are classified with the server's message", "[kube][errors]") {
  const std::string status =
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound","code":404})";
  auto not_found = ErrorFromResponse(404, status, "", "cluster1: GET /x");
  CHECK(not_found.code == ErrorCode::kNotFound);
  CHECK(not_found.http_status == 404);
  CHECK(not_found.message == R"(cluster1: GET /x: HTTP 404 NotFound: configmaps "x" not found)");
  CHECK(ErrorFromResponse(409, "", "", "w").code == ErrorCode::kConflict);
  CHECK(ErrorFromResponse(410, "", "", "w").code == ErrorCode::kGone);
  CHECK(ErrorFromResponse(401, "", "", "w").code == ErrorCode::kUnauthorized);
  CHECK(ErrorFromResponse(403, "", "", "w").code == ErrorCode::kForbidden);
  CHECK(ErrorFromResponse(400, "", "", "w").code == ErrorCode::kInvalidInput);
  CHECK(ErrorFromResponse(422, "", "", "w").code == ErrorCode::kInvalidInput);
  auto throttled = ErrorFromResponse(429, "", "7", "w");
  CHECK(throttled.code == ErrorCode::kUnavailable);
  CHECK(throttled.retry_after == std::chrono::seconds(7));
  CHECK(throttled.retryable());
  CHECK(ErrorFromResponse(503, "", "", "w").code == ErrorCode::kUnavailable);
  CHECK_FALSE(ErrorFromResponse(403, "", "", "w").retryable());
}

TEST_CASE("Answers from whatever answered become valid, short error texts", "[kube][errors]") {
  // A Latin-1 error page from a proxy: its bytes are not UTF-8, and the text
  // ends up in Events and RemoteCluster status (writing those threw before).
  const std::string latin1 =
      "Service indisponible : d\xe9"
      "faillance du proxy \xab amont \xbb";
  auto page = ErrorFromResponse(503, latin1, "", "cluster2: GET /api/v1/services");
  CHECK(page.code == ErrorCode::kUnavailable);
  CHECK(IsValidUtf8(page.message));
  CHECK_THAT(page.message, Catch::Contains("d\xEF\xBF\xBD"
                                           "faillance"));
  CHECK_NOTHROW(nlohmann::json(page.message).dump());
  // A Status whose fields have other types than a Status has.
  auto odd = ErrorFromResponse(500, R"({"kind":"Status","reason":7,"message":["x"]})", "", "w");
  CHECK(odd.message == "w: HTTP 500");
  CHECK_NOTHROW(ErrorFromResponse(500, R"({"kind":5})", "", "w"));
  CHECK_NOTHROW(ErrorFromResponse(500, "[]", "", "w"));
  // A huge body is quoted in part.
  auto huge = ErrorFromResponse(502, std::string(1 << 20, 'x'), "", "w");
  CHECK(huge.message.size() < kMaxDetailBytes + 32);
  CHECK(huge.message.ends_with("..."));
}

TEST_CASE("Retry-After is obeyed up to a cap", "[kube][errors]") {
  CHECK(ErrorFromResponse(429, "", "999999999", "w").retry_after == kMaxRetryAfter);
  CHECK(ErrorFromResponse(429, "", "59", "w").retry_after == std::chrono::seconds(59));
  CHECK(ErrorFromResponse(429, "", "-5", "w").retry_after == std::chrono::seconds(0));
  CHECK(ErrorFromResponse(429, "", "soon", "w").retry_after == std::chrono::seconds(0));
}

TEST_CASE("A list page of the wrong shape is an error, never an exception", "[kube][list]") {
  using nlohmann::json;
  for (const char* body :
       {"[]", "null", "\"text\"", "7", R"({"items":[]})", R"({"metadata":[],"items":[]})",
        R"({"metadata":{"resourceVersion":"1"},"items":{}})",
        R"({"metadata":{"resourceVersion":"1"},"items":[1,"x",null]})"}) {
    INFO(body);
    auto decoded = DecodeListPage(json::parse(body));
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().code == ErrorCode::kUnavailable);
  }
  // Fields of the wrong type inside a well-formed page read as absent.
  auto odd = DecodeListPage(json::parse(
      R"({"metadata":{"resourceVersion":12,"continue":7},"items":[{"metadata":"oops"}]})"));
  REQUIRE(odd.ok());
  CHECK(odd->resource_version.empty());
  CHECK(odd->continue_token.empty());
  CHECK(odd->items.size() == 1);
  auto good = DecodeListPage(json::parse(
      R"({"metadata":{"resourceVersion":"42","continue":"abc"},"items":[{"metadata":{"name":"a"}}]})"));
  REQUIRE(good.ok());
  CHECK(good->resource_version == "42");
  CHECK(good->continue_token == "abc");
  CHECK(DecodeListPage(json::parse(R"({"metadata":{},"items":null})")).ok());
}

TEST_CASE("Object keys are made from metadata and split back", "[kube][keys]") {
  const nlohmann::json pod = {{"metadata", {{"namespace", "httpbin"}, {"name", "web-1"}}}};
  const nlohmann::json node = {{"metadata", {{"name", "node-a"}}}};
  CHECK(ObjectKey(pod) == "httpbin/web-1");
  CHECK(ObjectKey(node) == "node-a");
  CHECK(ObjectKey(nlohmann::json{{"metadata", {{"name", 7}}}}).empty());
  const std::string key = ObjectKey(pod);
  const ObjectKeyParts parts = SplitObjectKey(key);
  CHECK(parts.namespace_name == "httpbin");
  CHECK(parts.name == "web-1");
  CHECK(SplitObjectKey("node-a").namespace_name.empty());
  CHECK(SplitObjectKey("node-a").name == "node-a");
  CHECK(SplitObjectKey("ns/").name.empty());
}

TEST_CASE("Server URLs parse host, port and prefix", "[kube][url]") {
  auto url = ParseServerUrl("https://example.com:8443/k8s/clusters/c-1/");
  REQUIRE(url.ok());
  CHECK(url->host == "example.com");
  CHECK(url->port == 8443);
  CHECK(url->path_prefix == "/k8s/clusters/c-1");
  auto v6 = ParseServerUrl("https://[::1]:6443");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(ParseServerUrl("https://h")->port == 443);
  CHECK_FALSE(ParseServerUrl("http://h").ok());
  CHECK_FALSE(ParseServerUrl("https://:80").ok());
  CHECK_FALSE(ParseServerUrl("https://h:x").ok());
}

TEST_CASE("Resource paths follow the API's layout", "[kube][paths]") {
  CHECK(resources::ConfigMaps().CollectionPath("") == "/api/v1/configmaps");
  CHECK(resources::ConfigMaps().ObjectPath("ns", "cm") == "/api/v1/namespaces/ns/configmaps/cm");
  CHECK(resources::Nodes().ObjectPath("ignored", "n1") == "/api/v1/nodes/n1");
  CHECK(resources::ServiceEntries().ObjectPath("istio-system", "se", "status") ==
        "/apis/networking.istio.io/v1/namespaces/istio-system/serviceentries/se/status");
  CHECK(EscapeQueryValue("a=b,c!=d") == "a%3Db%2Cc%21%3Dd");
}

}  // namespace
}  // namespace globalsvc::kube
