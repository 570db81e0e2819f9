#include "lib/base/rfc3339.h"

#include <catch2/catch.hpp>

namespace globalsvc {
namespace {

TEST_CASE("RFC 3339 timestamps round-trip", "[base]") {
  const auto t = ParseRfc3339("2024-02-29T12:34:56.123456Z");
  REQUIRE(t);
  CHECK(FormatMicroTime(*t) == "2024-02-29T12:34:56.123456Z");
  CHECK(ParseRfc3339("2024-02-29T14:34:56.123456+02:00") == t);
  CHECK_FALSE(ParseRfc3339("2024-02-29 12:34:56Z"));
  CHECK_FALSE(ParseRfc3339("yesterday"));
}

TEST_CASE("RFC 3339 timestamps as whole seconds", "[base]") {
  CHECK(ParseRfc3339Seconds("1970-01-01T00:00:00Z") == 0);
  CHECK(ParseRfc3339Seconds("2025-03-06T17:15:23Z") == 1741281323);
  CHECK(ParseRfc3339Seconds("2025-03-06T17:15:23.123456Z") == 1741281323);
  CHECK(ParseRfc3339Seconds("2025-03-06T18:15:23+01:00") == 1741281323);
  CHECK_FALSE(ParseRfc3339Seconds("2025-03-06"));
  CHECK_FALSE(ParseRfc3339Seconds("2025-13-06T17:15:23Z"));
  CHECK_FALSE(ParseRfc3339Seconds("2025-03-06T17:15:23Zjunk"));
  CHECK_FALSE(ParseRfc3339Seconds(""));
  // Any four-digit year, though system_clock ends in 2262: whole seconds
  // reach 9999, a time point refuses what it cannot hold.
  CHECK(ParseRfc3339Seconds("9999-12-31T23:59:59Z") == 253402300799);
  CHECK(ParseRfc3339Seconds("6629-01-01T00:00:00Z").has_value());
  CHECK_FALSE(ParseRfc3339("6629-01-01T00:00:00Z"));
  CHECK_FALSE(ParseRfc3339("1000-01-01T00:00:00Z"));
  CHECK(ParseRfc3339("2262-01-01T00:00:00Z"));
}

}  // namespace
}  // namespace globalsvc
