// Exceptions at thread roots are reported and swallowed.

#include "lib/base/guard.h"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace globalsvc {
namespace {

TEST_CASE("RunGuarded reports an exception and carries on", "[base][guard]") {
  std::vector<std::string> reports;
  const auto id = SetInternalErrorHandler([&](std::string_view where, std::string_view what) {
    reports.push_back(std::string(where) + ": " + std::string(what));
  });
  int runs = 0;
  CHECK(RunGuarded("ok", [&] { ++runs; }));
  CHECK_FALSE(RunGuarded("reconcile", [&] {
    ++runs;
    throw std::runtime_error("bad object");
  }));
  CHECK_FALSE(RunGuarded("other", [] { throw 42; }));
  CHECK(runs == 2);
  REQUIRE(reports.size() == 2);
  CHECK(reports[0] == "reconcile: bad object");
  CHECK(reports[1] == "other: an exception that is not a std::exception");

  // A later owner's handler survives the earlier owner's clearing.
  std::vector<std::string> later;
  const auto later_id = SetInternalErrorHandler(
      [&](std::string_view where, std::string_view) { later.emplace_back(where); });
  ClearInternalErrorHandler(id);
  CHECK_FALSE(RunGuarded("after", [] { throw std::logic_error("x"); }));
  CHECK(later == std::vector<std::string>{"after"});
  CHECK(reports.size() == 2);
  ClearInternalErrorHandler(later_id);
}

TEST_CASE("An exception text that is not UTF-8 reaches the handler as valid text",
          "[base][guard]") {
  std::string seen;
  const auto id = SetInternalErrorHandler(
      [&](std::string_view, std::string_view what) { seen = std::string(what); });
  CHECK_FALSE(RunGuarded("x", [] {
    throw std::runtime_error(
        "d\xE9"
        "faut");
  }));
  CHECK(seen ==
        "d\xEF\xBF\xBD"
        "faut");
  ClearInternalErrorHandler(id);
}

}  // namespace
}  // namespace globalsvc
