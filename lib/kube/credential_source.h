#pragma once

// The credentials to present to one cluster right now: a static token, a token
// file re-read on rotation, a client certificate, or an exec plugin's output
// cached until it expires. Thread-safe.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "lib/base/result.h"
#include "lib/kube/clock.h"
#include "lib/kube/kubeconfig.h"

namespace globalsvc::kube {

struct Credentials {
  std::string bearer_token;
  std::string client_certificate_pem;
  std::string client_key_pem;

  bool operator==(const Credentials&) const = default;
};

struct CredentialOptions {
  // Projected service-account tokens rotate well before they expire; re-reading
  // once a minute (and after any 401) follows a rotation in time.
  std::chrono::seconds token_file_refresh{60};
  std::chrono::milliseconds exec_timeout{30'000};
};

class CredentialSource {
 public:
  CredentialSource(ClusterConfig cluster, Clock& clock, CredentialOptions options = {});

  [[nodiscard]] Result<Credentials> Get();
  // The server rejected the credentials: re-read or re-run on the next Get().
  void Invalidate();

 private:
  Status RefreshTokenFileLocked();
  Status RefreshExecLocked();

  const ClusterConfig cluster_;
  Clock& clock_;
  const CredentialOptions options_;
  std::mutex mutex_;
  Credentials current_;
  bool stale_ = true;
  Clock::TimePoint token_read_at_{};
  std::optional<std::chrono::system_clock::time_point> exec_expiry_;
};

}  // namespace globalsvc::kube
