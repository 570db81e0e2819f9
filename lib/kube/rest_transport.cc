#include "lib/kube/rest_transport.h"

#include <httplib.h>
#include <signal.h>

#include <cstdint>
#include <vector>

#include "lib/kube/logger.h"
#include "lib/kube/tls_client.h"

namespace globalsvc::kube {
namespace {

// An answer's body, up to a cap. Chunks are kept apart and joined once at
// the end: a string grown by appending would hold up to twice the cap while
// it reallocates.
class BoundedBody {
 public:
  explicit BoundedBody(std::size_t cap) : cap_(cap) {}
  httplib::ContentReceiverWithProgress Receiver() {
    return [this](const char* data, std::size_t length, std::uint64_t, std::uint64_t) {
      if (received_ + length > cap_) {
        too_large_ = true;
        return false;
      }
      received_ += length;
      chunks_.emplace_back(data, length);
      return true;
    };
  }
  [[nodiscard]] bool too_large() const { return too_large_; }
  std::string Take() {
    std::string body;
    body.reserve(received_);
    for (std::string& chunk : chunks_) {
      body += chunk;
      std::string().swap(chunk);
    }
    return body;
  }

 private:
  const std::size_t cap_;
  std::vector<std::string> chunks_;
  std::size_t received_ = 0;
  bool too_large_ = false;
};

bool IsSuccess(int status) {
  return status >= 200 && status < 300;
}

}  // namespace

struct RestTransport::PooledClient {
  // Shared with in_flight_, so CancelAll() can stop it outside the lock.
  std::shared_ptr<httplib::SSLClient> client;
  Credentials credentials;
  Clock::TimePoint idle_since{};
  bool reused = false;  // taken from the pool: the server may have closed it meanwhile
};

Result<std::unique_ptr<RestTransport>> RestTransport::Create(const ClusterConfig& cluster,
                                                             Clock& clock,
                                                             TransportOptions options) {
  // OpenSSL writes to sockets with write(2): a peer that closed the connection
  // (an API server restarting) would raise SIGPIPE and kill the process. The
  // failed write is reported as an error instead.
  static const bool sigpipe_ignored = [] {
    signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;
  auto url = ParseServerUrl(cluster.server);
  if (!url.ok()) {
    return MakeError(ErrorCode::kInvalidInput,
                     "cluster " + cluster.name + ": server: " + url.error().message);
  }
  std::string connect_address;
  if (!cluster.tls_server_name.empty()) {
    auto address = ResolveAddress(url->host);
    if (!address.ok()) {
      return MakeError(address.error().code,
                       "cluster " + cluster.name + ": " + address.error().message);
    }
    connect_address = *address;
  }
  if (cluster.insecure_skip_tls_verify) {
    Log().Warn(
        "insecure-skip-tls-verify is set: the server's identity is NOT verified and credentials "
        "may go to an impostor",
        {{"cluster", cluster.name}, {"server", cluster.server}});
  }
  return std::unique_ptr<RestTransport>(
      new RestTransport(cluster, *url, std::move(connect_address), clock, std::move(options)));
}

RestTransport::RestTransport(ClusterConfig cluster, ServerUrl url, std::string connect_address,
                             Clock& clock, TransportOptions options)
    : cluster_(std::move(cluster)),
      url_(std::move(url)),
      connect_address_(std::move(connect_address)),
      options_(std::move(options)),
      clock_(clock),
      credentials_(cluster_, clock),
      rate_limiter_(options_.qps, options_.burst, clock) {}

RestTransport::~RestTransport() = default;

Result<std::unique_ptr<RestTransport::PooledClient>> RestTransport::NewClient(
    const Credentials& credentials) {
  const std::string host = cluster_.tls_server_name.empty() ? url_.host : cluster_.tls_server_name;
  auto pooled = std::make_unique<PooledClient>();
  pooled->credentials = credentials;
  auto client_or = MakeVerifiedClient(cluster_, host, url_.port, credentials);
  if (!client_or.ok()) return client_or.error();
  pooled->client = std::move(*client_or);
  httplib::SSLClient& client = *pooled->client;
  if (!connect_address_.empty()) client.set_hostname_addr_map({{host, connect_address_}});
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_connection_timeout(options_.connect_timeout.count(), 0);
  client.set_read_timeout(options_.request_timeout.count(), 0);
  client.set_write_timeout(options_.request_timeout.count(), 0);
  httplib::Headers headers = {{"User-Agent", options_.user_agent}, {"Accept", "application/json"}};
  if (!credentials.bearer_token.empty()) {
    headers.emplace("Authorization", "Bearer " + credentials.bearer_token);
  }
  client.set_default_headers(std::move(headers));
  return pooled;
}

Result<std::unique_ptr<RestTransport::PooledClient>> RestTransport::Checkout(
    const Credentials& credentials, bool fresh) {
  std::vector<std::unique_ptr<PooledClient>> dropped;  // closed outside the lock
  {
    std::lock_guard lock(pool_mutex_);
    if (fresh) dropped.swap(idle_);  // as old as the one that failed: likely closed too
    const auto now = clock_.Now();
    while (!idle_.empty()) {
      auto pooled = std::move(idle_.back());
      idle_.pop_back();
      // Connections made with rotated-away credentials, or idle for long
      // enough that the server may close them any moment, are dropped.
      if (pooled->credentials == credentials && now - pooled->idle_since < options_.max_idle_time) {
        pooled->reused = true;
        return pooled;
      }
      dropped.push_back(std::move(pooled));
    }
  }
  return NewClient(credentials);
}

void RestTransport::Return(std::unique_ptr<PooledClient> client) {
  client->idle_since = clock_.Now();
  std::lock_guard lock(pool_mutex_);
  if (!cancelled_ && idle_.size() < options_.max_idle_connections) {
    idle_.push_back(std::move(client));
  }
}

Error RestTransport::TransportError(int httplib_error, const PooledClient& pooled,
                                    std::string_view what) const {
  const auto error = static_cast<httplib::Error>(httplib_error);
  std::string detail;
  switch (error) {
    case httplib::Error::SSLServerVerification: {
      const long verify = pooled.client->get_openssl_verify_result();
      detail = std::string("TLS: the server's certificate is not trusted (") +
               (verify != 0 ? X509_verify_cert_error_string(verify) : "host name mismatch") +
               "); check certificate-authority and tls-server-name";
      break;
    }
    case httplib::Error::SSLConnection:
      detail = "TLS handshake failed (wrong CA, client certificate rejected, or not a TLS server)";
      break;
    case httplib::Error::SSLLoadingCerts:
      detail = "TLS: loading the CA certificates failed";
      break;
    case httplib::Error::Connection:
      detail = "cannot connect to " + cluster_.server;
      break;
    case httplib::Error::ConnectionTimeout:
      detail = "connecting to " + cluster_.server + " timed out";
      break;
    case httplib::Error::Read:
      detail = "reading the response failed or timed out";
      break;
    case httplib::Error::Write:
      detail = "sending the request failed";
      break;
    case httplib::Error::Canceled:
      detail = "canceled";
      break;
    default:
      detail = httplib::to_string(error);
  }
  return MakeError(ErrorCode::kUnavailable,
                   "cluster " + cluster_.name + ": " + std::string(what) + ": " + detail);
}

bool RestTransport::ResendOnNewConnection(std::string_view method, const PooledClient& pooled,
                                          httplib::Error error, Clock::Duration took) const {
  // A closed connection fails at once; a timeout takes the whole request
  // timeout and is not retried here. A POST may have been served before the
  // connection broke; the other verbs are idempotent in the Kubernetes API.
  return method != "POST" && pooled.reused &&
         (error == httplib::Error::Read || error == httplib::Error::Write) &&
         took < options_.request_timeout;
}

bool RestTransport::BeginRequest(const std::shared_ptr<httplib::SSLClient>& client) {
  std::lock_guard lock(pool_mutex_);
  if (cancelled_) return false;
  in_flight_.insert(client);
  return true;
}

void RestTransport::EndRequest(const std::shared_ptr<httplib::SSLClient>& client) {
  std::lock_guard lock(pool_mutex_);
  in_flight_.erase(client);
}

Error RestTransport::TooLarge(std::string_view what) const {
  Error error =
      MakeError(ErrorCode::kUnavailable, "cluster " + cluster_.name + ": " + std::string(what) +
                                             ": the answer is larger than " +
                                             std::to_string(options_.max_response_bytes >> 20) +
                                             " MiB (--max-response-mib); not read");
  error.http_status = kTooLargeStatus;
  return error;
}

Error RestTransport::NotSentNoLongerWriting(std::string_view what) const {
  return MakeError(ErrorCode::kUnavailable,
                   "cluster " + cluster_.name + ": " + std::string(what) +
                       ": not sent, this replica may no longer write (leadership lost)");
}

Error RestTransport::Canceled(std::string_view what) const {
  return MakeError(ErrorCode::kUnavailable,
                   "cluster " + cluster_.name + ": " + std::string(what) + ": canceled");
}

void RestTransport::CancelAll() {
  std::vector<std::shared_ptr<httplib::SSLClient>> running;
  {
    std::lock_guard lock(pool_mutex_);
    cancelled_ = true;
    running.assign(in_flight_.begin(), in_flight_.end());
    idle_.clear();
  }
  // stop() shuts the socket down: a read blocked on it returns at once. It
  // may wait for a connect in progress, so it is called outside the lock.
  for (const auto& client : running)
    client->stop();
}

Result<HttpResponse> RestTransport::Send(std::string_view method, const std::string& path,
                                         const std::string& body, std::string_view content_type) {
  const std::string what = std::string(method) + " " + path;
  // Each retry happens at most once per request.
  bool fresh_connection = false;
  bool credentials_refreshed = false;
  for (;;) {
    rate_limiter_.Acquire();
    auto credentials = credentials_.Get();
    if (!credentials.ok()) return credentials.error();
    auto pooled = Checkout(*credentials, fresh_connection);
    if (!pooled.ok()) return pooled.error();

    httplib::Request request;
    request.method = std::string(method);
    request.path = url_.path_prefix + path;
    request.body = body;
    if (!content_type.empty()) request.set_header("Content-Type", std::string(content_type));
    BoundedBody answer(options_.max_response_bytes);
    request.content_receiver = answer.Receiver();
    const std::shared_ptr<httplib::SSLClient> client = (*pooled)->client;
    if (method != "GET" && options_.may_write && !options_.may_write()) {
      Return(std::move(*pooled));
      return NotSentNoLongerWriting(what);
    }
    if (!BeginRequest(client)) return Canceled(what);
    const auto sent = clock_.Now();
    auto result = [&] {
      const InFlight in_flight(this, client);  // registered until send returns
      return client->send(request);
    }();
    if (answer.too_large()) return TooLarge(what);
    if (!result) {
      if (!fresh_connection &&
          ResendOnNewConnection(method, **pooled, result.error(), clock_.Now() - sent)) {
        Log().Debug("idle connection closed, sending once more",
                    {{"cluster", cluster_.name}, {"request", what}});
        fresh_connection = true;
        continue;
      }
      return TransportError(static_cast<int>(result.error()), **pooled, what);
    }

    HttpResponse response;
    response.status = result->status;
    response.body = answer.Take();
    response.retry_after = result->get_header_value("Retry-After");
    Return(std::move(*pooled));
    if (response.status == 401 && !credentials_refreshed &&
        (cluster_.auth.exec || !cluster_.auth.token_file.empty())) {
      Log().Info("credentials rejected, refreshing them", {{"cluster", cluster_.name}});
      credentials_.Invalidate();
      credentials_refreshed = true;
      continue;
    }
    return response;
  }
}

Result<HttpResponse> RestTransport::Stream(const std::string& path, const DataHandler& on_data,
                                           std::stop_token stop, std::chrono::seconds read_timeout,
                                           const std::function<void(int)>& on_status) {
  rate_limiter_.Acquire();
  auto credentials = credentials_.Get();
  if (!credentials.ok()) return credentials.error();
  // A stream holds its connection for minutes: give it its own, never pooled.
  auto pooled = NewClient(*credentials);
  if (!pooled.ok()) return pooled.error();
  httplib::SSLClient& client = *(*pooled)->client;
  client.set_read_timeout(read_timeout.count(), 0);
  client.set_keep_alive(false);

  if (!BeginRequest((*pooled)->client)) return Canceled("GET " + path);
  const InFlight in_flight(this, (*pooled)->client);
  HttpResponse response;
  std::stop_callback cancel(stop, [&client] { client.stop(); });
  auto result = client.Get((url_.path_prefix + path).c_str(), httplib::Headers{},
                           [&](const httplib::Response& head) {
                             response.status = head.status;
                             response.retry_after = head.get_header_value("Retry-After");
                             if (on_status) on_status(response.status);
                             return !stop.stop_requested();
                           },
                           [&](const char* data, std::size_t length) {
                             if (stop.stop_requested()) return false;
                             if (!IsSuccess(response.status)) {
                               if (response.body.size() < 65536) response.body.append(data, length);
                               return true;
                             }
                             return on_data(std::string_view(data, length));
                           });
  if (!result) {
    // Ending the stream on purpose is not a failure.
    if (stop.stop_requested() ||
        (IsSuccess(response.status) && result.error() == httplib::Error::Canceled)) {
      return response;
    }
    if (response.status == 401) credentials_.Invalidate();
    return TransportError(static_cast<int>(result.error()), **pooled, "GET " + path);
  }
  if (response.status == 401) credentials_.Invalidate();
  return response;
}

}  // namespace globalsvc::kube
