#pragma once

// remote-secret's work inside the remote cluster: the reader ServiceAccount,
// its bindings to the chart's reader roles, and its long-lived token.

#include <chrono>
#include <iosfwd>
#include <string>

#include "cli/commands.h"
#include "lib/base/result.h"
#include "lib/kube/kube_client.h"

namespace globalsvc::cli {

// The token Secret of a ServiceAccount, once the token controller filled it in.
struct TokenSecret {
  std::string token;
  std::string ca_pem;
};

// Checks the reader ServiceAccount exists; with `create`, first checks the
// chart's reader roles, creates the ServiceAccount when missing and binds it.
// Then waits up to `timeout` for its token. Progress lines go to `progress`
// and never name the token; errors say what was refused and hint at a fix.
[[nodiscard]] Result<TokenSecret> ProvisionReaderAccount(kube::KubeClient& client,
                                                         const ReaderIdentity& reader, bool create,
                                                         std::chrono::seconds timeout,
                                                         std::ostream& progress);

}  // namespace globalsvc::cli
