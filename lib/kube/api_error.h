#pragma once

// Classification of API server answers into Result errors, keeping the
// server's Status message so operators see what the server said.

#include <chrono>
#include <cstddef>
#include <string_view>

#include "lib/base/result.h"

namespace globalsvc::kube {

// The longest excerpt of a server's answer kept in an error message.
inline constexpr std::size_t kMaxDetailBytes = 512;
// Retry-After is obeyed up to this: one answer must not park a client for
// longer than its own backoff would.
inline constexpr std::chrono::seconds kMaxRetryAfter{60};

// `what` names the request ("cluster1: GET /api/v1/..."); `body` may hold a
// metav1.Status; `retry_after` is the Retry-After header (seconds) or empty.
// 404 not found, 409 conflict, 410 gone, 429/5xx unavailable (with the
// server's retry hint, at most kMaxRetryAfter), 401/403
// unauthorized/forbidden, 400/422 invalid. The message is valid UTF-8 and
// quotes at most kMaxDetailBytes of the body.
[[nodiscard]] Error ErrorFromResponse(int http_status, std::string_view body,
                                      std::string_view retry_after, std::string_view what);

}  // namespace globalsvc::kube
