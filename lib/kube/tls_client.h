#pragma once

// One HTTPS client to an API server, set up to trust what the kubeconfig says
// and to present its client certificate. Verification is on unless the
// kubeconfig itself sets insecure-skip-tls-verify.

#include <memory>
#include <string>

#include "lib/base/result.h"
#include "lib/kube/credential_source.h"
#include "lib/kube/kubeconfig.h"

namespace httplib {
class SSLClient;
}  // namespace httplib

namespace globalsvc::kube {

// `host` is the name the server's certificate must carry (tls-server-name
// when set, else the URL's host). With a certificate-authority, only that CA
// is trusted, as every Kubernetes client does; else the system trust store.
[[nodiscard]] Result<std::shared_ptr<httplib::SSLClient>> MakeVerifiedClient(
    const ClusterConfig& cluster, const std::string& host, int port,
    const Credentials& credentials);

// The numeric address of `host` (itself when it already is one). Needed when
// tls-server-name differs from the URL's host: the connection goes to the
// URL's address while the handshake names the other.
[[nodiscard]] Result<std::string> ResolveAddress(const std::string& host);

}  // namespace globalsvc::kube
