#include "lib/observability/http_server.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

namespace globalsvc::obs {
namespace {

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextContentType = "text/plain; charset=utf-8";
// Scrapes and probes are small and quick; a few workers are plenty and keep
// the daemon's thread count down.
constexpr std::size_t kWorkerThreads = 4;
// httplib.h's accept loop starts on the server thread; Start waits this long
// for it before returning (it takes microseconds in practice).
constexpr auto kListenStartTimeout = std::chrono::seconds(5);

Error InvalidAddress(std::string_view address, std::string_view why) {
  return MakeError(ErrorCode::kInvalidInput,
                   "invalid listen address \"" + std::string(address) + "\": " + std::string(why));
}

// httplib's default sets SO_REUSEPORT, which would let a second process bind
// the same port silently; SO_REUSEADDR alone still allows a quick restart.
void ListenSocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

// Checks the host resolves to something this machine can listen on.
Status CheckResolvable(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (found != nullptr) freeaddrinfo(found);
  if (rc != 0) {
    return MakeError(ErrorCode::kInvalidInput,
                     "cannot resolve listen host \"" + host + "\": " + gai_strerror(rc));
  }
  return Ok{};
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return InvalidAddress(address, "want host:port or :port");
  std::string_view host = address.substr(0, colon);
  const std::string_view port_text = address.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || host.size() < 3) {
      return InvalidAddress(address, "unterminated [IPv6] host");
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return InvalidAddress(address, "an IPv6 host needs brackets, as in [::1]:9090");
  }
  int port = -1;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port < 0 || port > 65535) {
    return InvalidAddress(address, "the port must be a number from 0 to 65535");
  }
  ListenAddress parsed;
  parsed.host = host.empty() ? "0.0.0.0" : std::string(host);
  parsed.port = port;
  return parsed;
}

struct HttpServer::State {
  State(Registry& r, LivenessCheck l, ReadinessCheck rd)
      : registry(r), live(std::move(l)), ready(std::move(rd)) {}

  Registry& registry;
  const LivenessCheck live;
  const ReadinessCheck ready;

  std::mutex lifecycle;  // Start and Stop
  bool started = false;
  bool stopped = false;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  std::atomic<int> port{0};
};

HttpServer::HttpServer(Registry& registry, LivenessCheck live, ReadinessCheck ready)
    : state_(std::make_unique<State>(registry, std::move(live), std::move(ready))) {}

HttpServer::~HttpServer() {
  Stop();
}

int HttpServer::port() const {
  return state_->port.load();
}

namespace {

std::unique_ptr<httplib::Server> MakeServer() {
  auto server = std::make_unique<httplib::Server>();
  server->set_socket_options(ListenSocketOptions);
  server->new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  server->set_keep_alive_timeout(2);
  server->set_read_timeout(5);
  server->set_write_timeout(5);
  server->set_payload_max_length(64 * 1024);
  return server;
}

// The handlers answer even when a check throws: a probe never takes the
// server down.
void AddRoutes(httplib::Server& server, Registry& registry, const HttpServer::LivenessCheck& live,
               const HttpServer::ReadinessCheck& ready) {
  server.Get("/metrics", [&registry](const httplib::Request&, httplib::Response& res) {
    try {
      res.set_content(registry.Render(), kMetricsContentType);
    } catch (const std::exception&) {
      res.status = 500;
      res.set_content("cannot render metrics", kTextContentType);
    }
  });
  server.Get("/healthz", [&live](const httplib::Request&, httplib::Response& res) {
    bool is_live = false;
    try {
      is_live = !live || live();
    } catch (const std::exception&) {
      is_live = false;
    }
    res.status = is_live ? 200 : 503;
    res.set_content(is_live ? "ok" : "not live", kTextContentType);
  });
  server.Get("/readyz", [&ready](const httplib::Request&, httplib::Response& res) {
    std::pair<bool, std::string> answer{true, ""};
    try {
      if (ready) answer = ready();
    } catch (const std::exception& e) {
      answer = {false, std::string("readiness check failed: ") + e.what()};
    }
    res.status = answer.first ? 200 : 503;
    if (answer.first) {
      res.set_content("ok", kTextContentType);
    } else {
      res.set_content(answer.second.empty() ? "not ready" : answer.second, kTextContentType);
    }
  });
}

// The bound port (the chosen one for port 0).
Result<int> Bind(httplib::Server& server, const ListenAddress& parsed, const std::string& address) {
  errno = 0;
  int bound = -1;
  if (parsed.port == 0) {
    bound = server.bind_to_any_port(parsed.host);
  } else if (server.bind_to_port(parsed.host, parsed.port)) {
    bound = parsed.port;
  }
  const int bind_errno = errno;
  if (bound >= 0) return bound;
  std::string message = "cannot listen on " + address;
  if (bind_errno != 0) message += std::string(": ") + std::strerror(bind_errno);
  return MakeError(ErrorCode::kUnavailable, std::move(message));
}

}  // namespace

Result<int> HttpServer::Start(const std::string& address) {
  State& s = *state_;
  std::lock_guard lock(s.lifecycle);
  if (s.started) return MakeError(ErrorCode::kInvalidInput, "the HTTP server was already started");
  auto parsed = ParseListenAddress(address);
  if (!parsed.ok()) return parsed.error();
  if (auto resolvable = CheckResolvable(parsed->host); !resolvable.ok()) {
    return resolvable.error();
  }

  try {
    auto server = MakeServer();
    AddRoutes(*server, s.registry, s.live, s.ready);
    auto bound = Bind(*server, *parsed, address);
    if (!bound.ok()) return bound.error();
    s.server = std::move(server);
    s.thread = std::thread([&s] {
      try {
        s.server->listen_after_bind();
      } catch (...) {
        // Nothing may escape a thread; the server is simply no longer serving.
      }
      s.listen_returned = true;
    });
    s.started = true;
    s.port = *bound;
  } catch (const std::exception& e) {
    s.server.reset();
    return MakeError(ErrorCode::kInternal,
                     std::string("cannot start the HTTP server: ") + e.what());
  }

  // httplib's stop() only acts once the accept loop runs; wait for it so Stop
  // can never miss it.
  const auto deadline = std::chrono::steady_clock::now() + kListenStartTimeout;
  while (!s.server->is_running() && !s.listen_returned &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return s.port.load();
}

void HttpServer::Stop() {
  State& s = *state_;
  std::lock_guard lock(s.lifecycle);
  if (!s.started || s.stopped) return;
  s.stopped = true;
  // stop() must be called exactly once, and only once the accept loop runs
  // (httplib.h ignores it before and asserts on a second call).
  while (!s.listen_returned && !s.server->is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!s.listen_returned) s.server->stop();
  if (s.thread.joinable()) s.thread.join();
}

}  // namespace globalsvc::obs
