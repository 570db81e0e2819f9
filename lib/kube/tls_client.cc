#include "lib/kube/tls_client.h"

#include <httplib.h>
#include <netdb.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>

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

std::shared_ptr<httplib::SSLClient> ClientWithCertificate(const std::string& host, int port,
                                                          const Credentials& credentials) {
  auto cert_bio = MemoryBio(credentials.client_certificate_pem);
  auto key_bio = MemoryBio(credentials.client_key_pem);
  X509* cert = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  std::shared_ptr<httplib::SSLClient> client;
  // The SSL context takes its own references.
  if (cert != nullptr && key != nullptr)
    client = std::make_shared<httplib::SSLClient>(host, port, cert, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return client;
}

}  // namespace

Result<std::shared_ptr<httplib::SSLClient>> MakeVerifiedClient(const ClusterConfig& cluster,
                                                               const std::string& host, int port,
                                                               const Credentials& credentials) {
  std::shared_ptr<httplib::SSLClient> client;
  if (credentials.client_certificate_pem.empty()) {
    client = std::make_shared<httplib::SSLClient>(host, port);
  } else {
    client = ClientWithCertificate(host, port, credentials);
    if (!client) {
      return MakeError(ErrorCode::kInvalidInput,
                       "cluster " + cluster.name + ": client certificate or key is unreadable");
    }
  }
  if (!client->is_valid()) {
    return MakeError(ErrorCode::kInternal, "cluster " + cluster.name + ": TLS setup failed");
  }
  if (cluster.insecure_skip_tls_verify) {
    client->enable_server_certificate_verification(false);
  } else {
    client->enable_server_certificate_verification(true);
    if (!cluster.certificate_authority_pem.empty()) {
      client->set_ca_cert_store(StoreWithCertificates(cluster.certificate_authority_pem));
      client->set_ca_cert_path("", kNoExtraCaDir);
    }
  }
  return client;
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

}  // namespace globalsvc::kube
