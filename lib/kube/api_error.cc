#include "lib/kube/api_error.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <string>

#include "lib/base/json_fields.h"
#include "lib/base/utf8.h"

namespace globalsvc::kube {
namespace {

ErrorCode CodeForStatus(int http_status) {
  switch (http_status) {
    case 400:
    case 405:
    case 406:
    case 413:
    case 415:
    case 422:
      return ErrorCode::kInvalidInput;
    case 401:
      return ErrorCode::kUnauthorized;
    case 403:
      return ErrorCode::kForbidden;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kConflict;
    case 410:
      return ErrorCode::kGone;
    case 429:
      return ErrorCode::kUnavailable;
    default:
      return http_status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInternal;
  }
}

}  // namespace

Error ErrorFromResponse(int http_status, std::string_view body, std::string_view retry_after,
                        std::string_view what) {
  Error error;
  error.code = CodeForStatus(http_status);
  error.http_status = http_status;
  std::string detail;
  // The body comes from whatever answered, an API server or a proxy in front
  // of it: any shape, any encoding, any size. The message keeps a short,
  // valid UTF-8 excerpt, since it ends up in Events, status and logs.
  const auto status = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (status.is_object() && StringFieldAt(status, {"kind"}) == "Status") {
    const std::string reason = StringFieldAt(status, {"reason"});
    const std::string message = StringFieldAt(status, {"message"});
    detail = reason.empty() ? message : reason + ": " + message;
  } else if (!body.empty() && body.find('\0') == std::string_view::npos) {
    detail = std::string(body.substr(0, kMaxDetailBytes + 4));
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' '))
      detail.pop_back();
  }
  detail = ShortUtf8(detail, kMaxDetailBytes);
  error.message = std::string(what) + ": HTTP " + std::to_string(http_status) +
                  (detail.empty() ? "" : " " + detail);
  int seconds = 0;
  if (const auto [end, ec] =
          std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), seconds);
      ec == std::errc{} && seconds > 0) {
    error.retry_after = std::min(std::chrono::milliseconds(std::chrono::seconds(seconds)),
                                 std::chrono::milliseconds(kMaxRetryAfter));
  }
  return error;
}

}  // namespace globalsvc::kube
