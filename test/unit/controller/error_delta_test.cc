#include "controller/error_delta.h"

#include <catch2/catch.hpp>

namespace globalsvc::controller {
namespace {

TEST_CASE("Error counts become counter increments across reconnections", "[controller][metrics]") {
  ErrorDelta delta;
  CHECK(delta.Observe("c2", 1, 0) == 0);
  CHECK(delta.Observe("c2", 1, 3) == 3);
  CHECK(delta.Observe("c2", 1, 3) == 0);
  CHECK(delta.Observe("c2", 1, 5) == 2);
  // Rotated credentials: a new connection starts at 0 and its errors still count.
  CHECK(delta.Observe("c2", 2, 1) == 1);
  CHECK(delta.Observe("c2", 2, 4) == 3);
  // Clusters are independent.
  CHECK(delta.Observe("c3", 7, 2) == 2);
  CHECK(delta.Observe("c2", 2, 4) == 0);
}

}  // namespace
}  // namespace globalsvc::controller
