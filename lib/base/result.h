#pragma once

// Result<T>: a value or an Error. Errors never cross module boundaries as
// exceptions; the error code tells the caller whether retrying can help.

#include <chrono>
#include <string>
#include <utility>
#include <variant>

namespace globalsvc {

enum class ErrorCode {
  kInvalidInput,  // the input is wrong; retrying the same input fails again
  kNotFound,
  kConflict,      // re-read, then retry
  kGone,          // resourceVersion too old: relist
  kUnavailable,   // transient: retry with backoff
  kUnauthorized,  // credentials rejected: terminal until they change
  kForbidden,     // RBAC: terminal until permissions change
  kInternal,
};

[[nodiscard]] constexpr bool IsRetryable(ErrorCode code) {
  return code == ErrorCode::kConflict || code == ErrorCode::kGone ||
         code == ErrorCode::kUnavailable;
}

[[nodiscard]] const char* ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Set by API clients: the HTTP status that produced the error (0 when none)
  // and the server's Retry-After hint (zero when none).
  int http_status = 0;
  std::chrono::milliseconds retry_after{0};

  [[nodiscard]] bool retryable() const { return IsRetryable(code); }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  [[nodiscard]] bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  [[nodiscard]] T& value() & { return std::get<T>(state_); }
  [[nodiscard]] const T& value() const& { return std::get<T>(state_); }
  [[nodiscard]] T&& value() && { return std::get<T>(std::move(state_)); }
  [[nodiscard]] const Error& error() const { return std::get<Error>(state_); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> state_;
};

// Result of an operation that yields nothing on success.
struct Ok {};
using Status = Result<Ok>;

inline Error MakeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace globalsvc
