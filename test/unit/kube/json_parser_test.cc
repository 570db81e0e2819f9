#include "lib/kube/json_parser.h"

#include <catch2/catch.hpp>

namespace globalsvc::kube {
namespace {

TEST_CASE("ParseJson agrees with nlohmann::json::parse", "[kube][json]") {
  const std::vector<std::string> documents = {
      R"({})",
      R"([])",
      R"( {"a" : [1, -2, 3.5, -0.25e-3, 1E+2, 0, -0, 18446744073709551615, -9223372036854775808]} )",
      R"({"big":18446744073709551616,"neg":-9223372036854775809})",
      R"({"s":"plain","e":"q\" b\\ s\/ \b\f\n\r\t","u":"\u00e9\u4e2d\ud83d\ude00","raw":"é中😀"})",
      R"({"nested":{"a":{"b":{"c":[[[{"d":null}]]]}}},"t":true,"f":false})",
      R"({"dup":1,"dup":2})",
      R"(["",[],{},"x"])",
      R"("just a string")",
      R"(42)",
  };
  for (const auto& text : documents) {
    INFO(text);
    const auto ours = ParseJson(text);
    REQUIRE(ours);
    CHECK(*ours == nlohmann::json::parse(text));
    CHECK(ours->dump() == nlohmann::json::parse(text).dump());
  }
}

TEST_CASE("ParseJson refuses malformed JSON", "[kube][json]") {
  for (const std::string text : {"",
                                 "{",
                                 "}",
                                 "[1,]",
                                 "{\"a\":}",
                                 "{\"a\" 1}",
                                 "{a:1}",
                                 "[1 2]",
                                 "01",
                                 "1.",
                                 ".5",
                                 "-",
                                 "1e",
                                 "tru",
                                 "nul",
                                 "\"unterminated",
                                 "\"bad \\x escape\"",
                                 "\"\\ud800 lone\"",
                                 "\"\\udc00\"",
                                 "\"\\u12g4\"",
                                 "\"tab\tinside\"",
                                 "{} {}",
                                 "[1]]",
                                 "1e400"}) {
    INFO(text);
    CHECK_FALSE(ParseJson(text));
  }
  std::string deep(600, '[');
  deep += std::string(600, ']');
  CHECK_FALSE(ParseJson(deep));
}

}  // namespace
}  // namespace globalsvc::kube
