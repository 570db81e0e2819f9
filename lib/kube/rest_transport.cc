#include "lib/kube/rest_transport.h"

#include <httplib.h>
#include <netdb.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdint>
#include <vector>

#include "lib/kube/logger.h"

namespace globalsvc::kube {
namespace {

// httplib adds the system trust store unless a CA file or folder is named.
// Naming a folder that holds nothing keeps trust to the cluster's own CA, as
// every Kubernetes client does when certificate-authority is set.
constexpr const char* kNoExtraCaDir = "/nonexistent/globalsvc-cluster-ca-only";

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

X509_STORE* StoreWithCertificates(const std::string& pem) {
  X509_STORE* store = X509_STORE_new();
  auto bio = MemoryBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
  }
  ERR_clear_error();
  return store;
}

bool IsNumericAddress(const std::string& host) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* info = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &info);
  if (info != nullptr) freeaddrinfo(info);
  return rc == 0;
}

Result<std::string> ResolveAddress(const std::string& host) {
  if (IsNumericAddress(host)) return host;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* info = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &info) != 0 || info == nullptr) {
    return MakeError(ErrorCode::kUnavailable, "cannot resolve " + host);
  }
  char text[NI_MAXHOST];
  const int rc =
      getnameinfo(info->ai_addr, info->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
  freeaddrinfo(info);
  if (rc != 0) return MakeError(ErrorCode::kUnavailable, "cannot resolve " + host);
  return std::string(text);
}

bool IsSuccess(int status) {
  return status >= 200 && status < 300;
}

}  // namespace

struct RestTransport::PooledClient {
  // Shared with in_flight_, so CancelAll() can stop it outside the lock.
  std::shared_ptr<httplib::SSLClient> client;
  Credentials credentials;
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
    Log().warn(
        "event=insecure_tls cluster={} server={} msg=\"insecure-skip-tls-verify is set: the "
        "server's identity is NOT verified and credentials may go to an impostor\"",
        cluster.name, cluster.server);
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
      credentials_(cluster_, clock),
      rate_limiter_(options_.qps, options_.burst, clock) {}

RestTransport::~RestTransport() = default;

Result<std::unique_ptr<RestTransport::PooledClient>> RestTransport::NewClient(
    const Credentials& credentials) {
  const std::string host = cluster_.tls_server_name.empty() ? url_.host : cluster_.tls_server_name;
  auto pooled = std::make_unique<PooledClient>();
  pooled->credentials = credentials;
  if (!credentials.client_certificate_pem.empty()) {
    auto cert_bio = MemoryBio(credentials.client_certificate_pem);
    auto key_bio = MemoryBio(credentials.client_key_pem);
    X509* cert = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
    ERR_clear_error();
    if (cert == nullptr || key == nullptr) {
      X509_free(cert);
      EVP_PKEY_free(key);
      return MakeError(ErrorCode::kInvalidInput,
                       "cluster " + cluster_.name + ": client certificate or key is unreadable");
    }
    // The SSL context takes its own references.
    pooled->client = std::make_shared<httplib::SSLClient>(host, url_.port, cert, key);
    X509_free(cert);
    EVP_PKEY_free(key);
  } else {
    pooled->client = std::make_shared<httplib::SSLClient>(host, url_.port);
  }
  httplib::SSLClient& client = *pooled->client;
  if (!client.is_valid()) {
    return MakeError(ErrorCode::kInternal, "cluster " + cluster_.name + ": TLS setup failed");
  }
  if (!connect_address_.empty()) client.set_hostname_addr_map({{host, connect_address_}});
  if (cluster_.insecure_skip_tls_verify) {
    client.enable_server_certificate_verification(false);
  } else {
    client.enable_server_certificate_verification(true);
    if (!cluster_.certificate_authority_pem.empty()) {
      client.set_ca_cert_store(StoreWithCertificates(cluster_.certificate_authority_pem));
      client.set_ca_cert_path("", kNoExtraCaDir);
    }
  }
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
    const Credentials& credentials) {
  {
    std::lock_guard lock(pool_mutex_);
    while (!idle_.empty()) {
      auto pooled = std::move(idle_.back());
      idle_.pop_back();
      // Connections made with rotated-away credentials are dropped.
      if (pooled->credentials == credentials) return pooled;
    }
  }
  return NewClient(credentials);
}

void RestTransport::Return(std::unique_ptr<PooledClient> client) {
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
  for (int attempt = 0;; ++attempt) {
    rate_limiter_.Acquire();
    auto credentials = credentials_.Get();
    if (!credentials.ok()) return credentials.error();
    auto pooled = Checkout(*credentials);
    if (!pooled.ok()) return pooled.error();

    httplib::Request request;
    request.method = std::string(method);
    request.path = url_.path_prefix + path;
    request.body = body;
    if (!content_type.empty()) request.set_header("Content-Type", std::string(content_type));
    // Chunks are kept apart and joined once at the end: a string grown by
    // appending would hold up to twice the cap while it reallocates.
    std::vector<std::string> chunks;
    std::size_t received = 0;
    bool too_large = false;
    request.content_receiver = [&](const char* data, std::size_t length, std::uint64_t,
                                   std::uint64_t) {
      if (received + length > options_.max_response_bytes) {
        too_large = true;
        return false;
      }
      received += length;
      chunks.emplace_back(data, length);
      return true;
    };
    const std::shared_ptr<httplib::SSLClient> client = (*pooled)->client;
    if (method != "GET" && options_.may_write && !options_.may_write()) {
      Return(std::move(*pooled));
      return MakeError(ErrorCode::kUnavailable,
                       "cluster " + cluster_.name + ": " + what +
                           ": not sent, this replica may no longer write (leadership lost)");
    }
    if (!BeginRequest(client)) return Canceled(what);
    auto result = [&] {
      const InFlight in_flight(this, client);  // registered until send returns
      return client->send(request);
    }();
    if (too_large) {
      Error error =
          MakeError(ErrorCode::kUnavailable, "cluster " + cluster_.name + ": " + what +
                                                 ": the answer is larger than " +
                                                 std::to_string(options_.max_response_bytes >> 20) +
                                                 " MiB (--max-response-mib); not read");
      error.http_status = kTooLargeStatus;
      return error;
    }
    if (!result) return TransportError(static_cast<int>(result.error()), **pooled, what);

    HttpResponse response;
    response.status = result->status;
    response.body.reserve(received);
    for (std::string& chunk : chunks) {
      response.body += chunk;
      std::string().swap(chunk);
    }
    response.retry_after = result->get_header_value("Retry-After");
    Return(std::move(*pooled));
    if (response.status == 401 && attempt == 0 &&
        (cluster_.auth.exec || !cluster_.auth.token_file.empty())) {
      Log().info("event=credentials_rejected cluster={} action=refresh_and_retry", cluster_.name);
      credentials_.Invalidate();
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
