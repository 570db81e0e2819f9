#pragma once

// The daemon's plain-HTTP endpoint for Prometheus and the kubelet:
//   GET /metrics  Registry::Render(), text/plain; version=0.0.4; charset=utf-8
//   GET /healthz  200 "ok" while the liveness check returns true, else 503
//   GET /readyz   200 "ok" while the readiness check returns {true, ""},
//                 else 503 with the reason as the body
// Served by httplib::Server on its own thread (plus a small worker pool); the
// checks run on those workers, so they must be thread-safe and quick.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "lib/base/result.h"
#include "lib/observability/metrics.h"

namespace globalsvc::obs {

struct ListenAddress {
  std::string host;  // "0.0.0.0" when the address gave none
  int port = 0;      // 0: any free port
};

// ":9090" (all IPv4 interfaces), "127.0.0.1:0", "[::1]:9090", "localhost:8080".
[[nodiscard]] Result<ListenAddress> ParseListenAddress(std::string_view address);

class HttpServer {
 public:
  using LivenessCheck = std::function<bool()>;
  using ReadinessCheck = std::function<std::pair<bool, std::string>()>;

  HttpServer(Registry& registry, LivenessCheck live, ReadinessCheck ready);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving; returns the bound port (the chosen one for
  // port 0). kInvalidInput for a malformed or unresolvable address or a
  // second Start; kUnavailable when the port cannot be bound (in use, not
  // permitted).
  [[nodiscard]] Result<int> Start(const std::string& address);
  // Stops accepting, finishes in-flight requests, joins the threads.
  // Idempotent; safe before Start.
  void Stop();
  // The bound port after a successful Start, else 0.
  [[nodiscard]] int port() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace globalsvc::obs
