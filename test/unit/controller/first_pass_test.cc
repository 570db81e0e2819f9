#include "controller/first_pass.h"

#include <catch2/catch.hpp>

namespace globalsvc::controller {
namespace {

TEST_CASE("The first pass is done once every key has been reconciled", "[controller]") {
  FirstPass pass;
  CHECK_FALSE(pass.done());  // nothing begun: nothing counted yet

  pass.Begin({"a/x", "b/y"});
  CHECK_FALSE(pass.Reconciled("c/other"));  // a key outside the pass changes nothing
  CHECK_FALSE(pass.Reconciled("a/x"));
  CHECK_FALSE(pass.done());
  CHECK_FALSE(pass.Reconciled("a/x"));  // twice is still one key
  CHECK_FALSE(pass.done());
  CHECK(pass.Reconciled("b/y"));  // reported once, when it completes
  CHECK(pass.done());
  CHECK_FALSE(pass.Reconciled("b/y"));

  // Leading again (after losing it) starts a new pass.
  pass.Begin({"a/x"});
  CHECK_FALSE(pass.done());
  CHECK(pass.Reconciled("a/x"));

  pass.Begin({});
  CHECK(pass.done());
}

}  // namespace
}  // namespace globalsvc::controller
