#include "lib/kube/credential_source.h"

#include <fstream>
#include <sstream>

#include "lib/kube/exec_plugin.h"
#include "lib/kube/logger.h"

namespace globalsvc::kube {

CredentialSource::CredentialSource(ClusterConfig cluster, Clock& clock, CredentialOptions options)
    : cluster_(std::move(cluster)), clock_(clock), options_(options) {
  current_.bearer_token = cluster_.auth.token;
  current_.client_certificate_pem = cluster_.auth.client_certificate_pem;
  current_.client_key_pem = cluster_.auth.client_key_pem;
}

Status CredentialSource::RefreshTokenFileLocked() {
  std::ifstream in(cluster_.auth.token_file);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (!in || token.empty()) {
    // Keep the last token: a rotation may be replacing the file right now.
    Log().Warn("token file unreadable", {{"cluster", cluster_.name},
                                         {"path", cluster_.auth.token_file},
                                         {"keeping_previous", !current_.bearer_token.empty()}});
    if (current_.bearer_token.empty()) {
      return MakeError(ErrorCode::kUnauthorized, "cluster " + cluster_.name + ": token file " +
                                                     cluster_.auth.token_file +
                                                     " is unreadable or empty");
    }
    return Ok{};
  }
  current_.bearer_token = std::move(token);
  token_read_at_ = clock_.Now();
  return Ok{};
}

Status CredentialSource::RefreshExecLocked() {
  auto credential = RunExecPlugin(*cluster_.auth.exec, cluster_, options_.exec_timeout);
  if (!credential.ok()) return credential.error();
  current_.bearer_token = std::move(credential->token);
  current_.client_certificate_pem = std::move(credential->client_certificate_pem);
  current_.client_key_pem = std::move(credential->client_key_pem);
  // Cert-only plugins keep the kubeconfig's certificate if they print none.
  if (current_.client_certificate_pem.empty()) {
    current_.client_certificate_pem = cluster_.auth.client_certificate_pem;
    current_.client_key_pem = cluster_.auth.client_key_pem;
  }
  exec_expiry_ = credential->expiration;
  Log().Info("exec credential refreshed",
             {{"cluster", cluster_.name}, {"expires", exec_expiry_ ? "yes" : "never"}});
  return Ok{};
}

Result<Credentials> CredentialSource::Get() {
  std::lock_guard lock(mutex_);
  if (cluster_.auth.exec) {
    const bool expired = exec_expiry_ && clock_.WallNow() >= *exec_expiry_;
    if (stale_ || expired) {
      if (auto status = RefreshExecLocked(); !status.ok()) return status.error();
      stale_ = false;
    }
  } else if (!cluster_.auth.token_file.empty()) {
    if (stale_ || clock_.Now() - token_read_at_ >= options_.token_file_refresh) {
      if (auto status = RefreshTokenFileLocked(); !status.ok()) return status.error();
      stale_ = false;
    }
  }
  return current_;
}

void CredentialSource::Invalidate() {
  std::lock_guard lock(mutex_);
  stale_ = true;
}

}  // namespace globalsvc::kube
