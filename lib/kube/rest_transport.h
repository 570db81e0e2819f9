#pragma once

// HTTPS to one cluster's API server: verified TLS, credentials, keep-alive
// connection reuse, timeouts and the client-side rate limit. Knows HTTP, not
// Kubernetes objects (KubeClient builds on it). Thread-safe: concurrent
// requests use separate pooled connections; every stream gets its own.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/kube/clock.h"
#include "lib/kube/credential_source.h"
#include "lib/kube/kubeconfig.h"
#include "lib/kube/rate_limiter.h"
#include "lib/kube/server_url.h"

namespace httplib {
class SSLClient;
enum class Error;
}  // namespace httplib

namespace globalsvc::kube {

// The http_status of an error for an answer over max_response_bytes (413,
// Payload Too Large, as if the client had said it).
inline constexpr int kTooLargeStatus = 413;

struct TransportOptions {
  double qps = 50;
  int burst = 100;
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds request_timeout{30};
  std::size_t max_idle_connections = 4;
  // An idle connection older than this is closed, not reused: the API server
  // closes its own after 90 s idle, and a request sent on a connection it
  // just closed fails.
  std::chrono::seconds max_idle_time{50};
  // The largest response body read (non-streaming requests): whatever
  // answers may send any amount, and a parsed body takes many times its size.
  // Exceeding it is a kUnavailable error with http_status kTooLargeStatus.
  std::size_t max_response_bytes = 16u << 20;
  std::string user_agent = "globalsvc";
  // Asked right before a request other than GET is sent, after the rate
  // limiter let it through: false fences it (a kUnavailable error, nothing
  // sent). A leader that lost its Lease while a write waited must not write.
  std::function<bool()> may_write;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string retry_after;
};

class RestTransport {
 public:
  using DataHandler = std::function<bool(std::string_view chunk)>;

  static Result<std::unique_ptr<RestTransport>> Create(const ClusterConfig& cluster, Clock& clock,
                                                       TransportOptions options = {});
  ~RestTransport();
  RestTransport(const RestTransport&) = delete;
  RestTransport& operator=(const RestTransport&) = delete;

  // One request; any HTTP status is a success here (the caller classifies it).
  // Transport failures (connect, TLS, timeouts) are kUnavailable errors naming
  // the cluster. A 401 re-reads the credentials and retries once. A request
  // other than POST that fails at once on a reused connection (the server
  // closed it while idle) is sent once more on a new one.
  [[nodiscard]] Result<HttpResponse> Send(std::string_view method, const std::string& path,
                                          const std::string& body = {},
                                          std::string_view content_type = {});

  // A streaming GET: body bytes go to `on_data` as they arrive until the
  // server ends the response, `on_data` returns false, or `stop` is requested.
  // A non-2xx response's body is returned instead of streamed. `on_status`
  // hears the status as soon as the headers arrive (a watch may then stay
  // silent for a long time).
  [[nodiscard]] Result<HttpResponse> Stream(const std::string& path, const DataHandler& on_data,
                                            std::stop_token stop, std::chrono::seconds read_timeout,
                                            const std::function<void(int)>& on_status = {});

  [[nodiscard]] const std::string& cluster_name() const { return cluster_.name; }

  // Ends every request in flight at once (they fail as canceled) and fails
  // every later one: stopping a cluster never waits on its network, however
  // slow or silent its server is.
  void CancelAll();

 private:
  RestTransport(ClusterConfig cluster, ServerUrl url, std::string connect_address, Clock& clock,
                TransportOptions options);

  struct PooledClient;
  // An idle client with these credentials, or a new one (always when `fresh`).
  Result<std::unique_ptr<PooledClient>> Checkout(const Credentials& credentials, bool fresh);
  void Return(std::unique_ptr<PooledClient> client);
  // Registers a request in flight; false once CancelAll() was called.
  bool BeginRequest(const std::shared_ptr<httplib::SSLClient>& client);
  void EndRequest(const std::shared_ptr<httplib::SSLClient>& client);
  // Ends the registration of a request in flight, however its scope ends.
  class InFlight {
   public:
    InFlight(RestTransport* transport, std::shared_ptr<httplib::SSLClient> client)
        : transport_(transport), client_(std::move(client)) {}
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    ~InFlight() { transport_->EndRequest(client_); }

   private:
    RestTransport* transport_;
    std::shared_ptr<httplib::SSLClient> client_;
  };
  // The error of an answer over max_response_bytes (status kTooLargeStatus).
  Error TooLarge(std::string_view what) const;
  // A write not sent because this replica may no longer write.
  Error NotSentNoLongerWriting(std::string_view what) const;
  Error Canceled(std::string_view what) const;
  Result<std::unique_ptr<PooledClient>> NewClient(const Credentials& credentials);
  Error TransportError(int httplib_error, const PooledClient& client, std::string_view what) const;
  // Whether a failed request is sent once more on a new connection: it
  // failed because the server had closed the reused connection while it sat
  // idle, and sending it again is safe.
  bool ResendOnNewConnection(std::string_view method, const PooledClient& pooled,
                             httplib::Error error, Clock::Duration took) const;

  const ClusterConfig cluster_;
  const ServerUrl url_;
  const std::string connect_address_;  // numeric address when tls-server-name overrides the host
  const TransportOptions options_;
  Clock& clock_;
  CredentialSource credentials_;
  RateLimiter rate_limiter_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<PooledClient>> idle_;
  // Clients with a request in flight, so CancelAll() can end them.
  std::set<std::shared_ptr<httplib::SSLClient>> in_flight_;
  bool cancelled_ = false;
};

}  // namespace globalsvc::kube
