#pragma once

// Checks and conversions for the certificate and key material in kubeconfigs
// and exec credentials, done at load time so a bad field is reported by name
// instead of failing later inside a TLS handshake.

#include <optional>
#include <string>
#include <string_view>

namespace globalsvc::kube {

// Standard base64 (RFC 4648, padding optional, whitespace ignored).
[[nodiscard]] std::optional<std::string> DecodeBase64(std::string_view text);
[[nodiscard]] std::string EncodeBase64(std::string_view bytes);

// Whether `pem` holds at least one certificate and nothing unreadable.
[[nodiscard]] bool IsCertificatePem(std::string_view pem);
// Whether `pem` holds a private key OpenSSL can read.
[[nodiscard]] bool IsPrivateKeyPem(std::string_view pem);

}  // namespace globalsvc::kube
