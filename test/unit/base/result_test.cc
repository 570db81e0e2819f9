#include "lib/base/result.h"

#include <catch2/catch.hpp>

namespace globalsvc {
namespace {

Result<int> Half(int value) {
  if (value % 2 != 0) return MakeError(ErrorCode::kInvalidInput, "odd");
  return value / 2;
}

TEST_CASE("Result holds a value or an error", "[base]") {
  auto ok = Half(4);
  REQUIRE(ok.ok());
  CHECK(*ok == 2);
  auto bad = Half(3);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kInvalidInput);
  CHECK(bad.error().message == "odd");
  CHECK_FALSE(bad.error().retryable());
}

TEST_CASE("Only transient error codes are retryable", "[base]") {
  CHECK(IsRetryable(ErrorCode::kUnavailable));
  CHECK(IsRetryable(ErrorCode::kConflict));
  CHECK(IsRetryable(ErrorCode::kGone));
  CHECK_FALSE(IsRetryable(ErrorCode::kForbidden));
  CHECK_FALSE(IsRetryable(ErrorCode::kUnauthorized));
  CHECK_FALSE(IsRetryable(ErrorCode::kNotFound));
  CHECK_FALSE(IsRetryable(ErrorCode::kInvalidInput));
  CHECK(std::string(ErrorCodeName(ErrorCode::kGone)) == "Gone");
}

}  // namespace
}  // namespace globalsvc
