#include "lib/observability/http_server.h"

#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <string>
#include <utility>

namespace globalsvc::obs {
namespace {

// Health state the checks read from the server's worker threads.
struct Health {
  std::atomic<bool> live{true};
  std::mutex mutex;
  bool ready = true;
  std::string reason;

  void SetReady(bool r, std::string why) {
    std::lock_guard lock(mutex);
    ready = r;
    reason = std::move(why);
  }
  std::pair<bool, std::string> Ready() {
    std::lock_guard lock(mutex);
    return {ready, reason};
  }
};

HttpServer MakeServer(Registry& registry, Health& health) {
  return HttpServer(
      registry, [&health] { return health.live.load(); }, [&health] { return health.Ready(); });
}

TEST_CASE("HttpServer serves /metrics, /healthz and /readyz on an ephemeral port",
          "[observability]") {
  Registry registry;
  auto& counter = registry.AddCounter("test_scrapes_total", "Scrapes.", {"kind"});
  counter.Inc({"a"}, 3);
  Health health;
  HttpServer server(
      registry, [&health] { return health.live.load(); }, [&health] { return health.Ready(); });
  auto port = server.Start("127.0.0.1:0");
  REQUIRE(port.ok());
  CHECK(*port > 0);
  CHECK(server.port() == *port);

  httplib::Client client("127.0.0.1", *port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);

  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics->body == registry.Render());
  CHECK(metrics->body.find("test_scrapes_total{kind=\"a\"} 3\n") != std::string::npos);

  auto healthz = client.Get("/healthz");
  REQUIRE(healthz);
  CHECK(healthz->status == 200);
  CHECK(healthz->body == "ok");

  auto readyz = client.Get("/readyz");
  REQUIRE(readyz);
  CHECK(readyz->status == 200);
  CHECK(readyz->body == "ok");

  health.SetReady(false, "caches not synced: cluster2");
  readyz = client.Get("/readyz");
  REQUIRE(readyz);
  CHECK(readyz->status == 503);
  CHECK(readyz->body == "caches not synced: cluster2");

  health.live = false;
  healthz = client.Get("/healthz");
  REQUIRE(healthz);
  CHECK(healthz->status == 503);

  auto missing = client.Get("/nothing-here");
  REQUIRE(missing);
  CHECK(missing->status == 404);

  server.Stop();
  server.Stop();  // idempotent
  httplib::Client after("127.0.0.1", *port);
  after.set_connection_timeout(1);
  CHECK_FALSE(after.Get("/healthz"));
}

TEST_CASE("HttpServer reports bad addresses and a port in use", "[observability]") {
  Registry registry;
  Health health;

  for (const char* bad : {"9090", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:http", "::1:9090",
                          "[::1:9090", "127.0.0.1:-1"}) {
    HttpServer server = MakeServer(registry, health);
    auto port = server.Start(bad);
    INFO(bad);
    REQUIRE_FALSE(port.ok());
    CHECK(port.error().code == ErrorCode::kInvalidInput);
    CHECK(port.error().message.find(bad) != std::string::npos);
    server.Stop();
  }

  HttpServer first = MakeServer(registry, health);
  auto port = first.Start("127.0.0.1:0");
  REQUIRE(port.ok());
  HttpServer second = MakeServer(registry, health);
  auto clash = second.Start("127.0.0.1:" + std::to_string(*port));
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.error().code == ErrorCode::kUnavailable);
  CHECK(clash.error().message.find("in use") != std::string::npos);

  auto twice = first.Start("127.0.0.1:0");
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().code == ErrorCode::kInvalidInput);
  // first is stopped by its destructor.
}

TEST_CASE("HttpServer Stop is safe before Start and right after it", "[observability]") {
  Registry registry;
  Health health;
  {
    HttpServer never = MakeServer(registry, health);
    never.Stop();
    never.Stop();
    CHECK(never.port() == 0);
  }
  for (int i = 0; i < 20; ++i) {
    HttpServer quick = MakeServer(registry, health);
    REQUIRE(quick.Start("127.0.0.1:0").ok());
    quick.Stop();
  }
}

TEST_CASE("ParseListenAddress", "[observability]") {
  auto any = ParseListenAddress(":9090");
  REQUIRE(any.ok());
  CHECK(any->host == "0.0.0.0");
  CHECK(any->port == 9090);
  auto v6 = ParseListenAddress("[::1]:0");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 0);
  auto named = ParseListenAddress("localhost:65535");
  REQUIRE(named.ok());
  CHECK(named->host == "localhost");
  CHECK_FALSE(ParseListenAddress("").ok());
  CHECK_FALSE(ParseListenAddress("localhost:65536").ok());
}

}  // namespace
}  // namespace globalsvc::obs
