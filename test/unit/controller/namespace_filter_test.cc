// Which namespaces of a remote a Secret's annotations admit.

#include "controller/namespace_filter.h"

#include <catch2/catch.hpp>

namespace globalsvc::controller {
namespace {

TEST_CASE("No annotation admits every namespace", "[controller][namespaces]") {
  auto filter = NamespaceFilter::Parse("", " ");
  REQUIRE(filter.ok());
  CHECK(filter->admits_all());
  CHECK(filter->Admits("kube-system"));
  CHECK(filter->Describe() == "all");
}

TEST_CASE("Only-lists admit their names; exclusions win", "[controller][namespaces]") {
  auto filter = NamespaceFilter::Parse("httpbin, shop,,", "shop,kube-system");
  REQUIRE(filter.ok());
  CHECK_FALSE(filter->admits_all());
  CHECK(filter->Admits("httpbin"));
  CHECK_FALSE(filter->Admits("shop"));         // excluded as well
  CHECK_FALSE(filter->Admits("kube-system"));  // not listed
  CHECK_FALSE(filter->Admits("http"));         // no prefix matching
  CHECK(filter->Describe() == "only httpbin,shop except kube-system,shop");

  auto except = NamespaceFilter::Parse("", "kube-system");
  REQUIRE(except.ok());
  CHECK(except->Admits("httpbin"));
  CHECK_FALSE(except->Admits("kube-system"));
  CHECK(except->Describe() == "all except kube-system");
}

TEST_CASE("Names that are not namespace names are refused", "[controller][namespaces]") {
  for (const char* bad : {"Shop", "a_b", "-a", "a-", "a/b", "*", "d\xC3\xA9j\xC3\xA0", "\xff"}) {
    INFO(bad);
    auto only = NamespaceFilter::Parse(bad, "");
    REQUIRE_FALSE(only.ok());
    CHECK(only.error().code == ErrorCode::kInvalidInput);
    CHECK_THAT(only.error().message, Catch::StartsWith("only: '"));
    auto except = NamespaceFilter::Parse("", std::string("ok,") + bad);
    REQUIRE_FALSE(except.ok());
    CHECK_THAT(except.error().message, Catch::StartsWith("except: '"));
  }
  CHECK(NamespaceFilter::Parse(std::string(63, 'a'), "").ok());
  CHECK_FALSE(NamespaceFilter::Parse(std::string(64, 'a'), "").ok());
}

TEST_CASE("Filters compare by their sets", "[controller][namespaces]") {
  CHECK(*NamespaceFilter::Parse("a,b", "") == *NamespaceFilter::Parse(" b , a", ""));
  CHECK_FALSE(*NamespaceFilter::Parse("a", "") == *NamespaceFilter::Parse("", "a"));
}

}  // namespace
}  // namespace globalsvc::controller
