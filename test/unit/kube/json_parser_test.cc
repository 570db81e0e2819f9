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

TEST_CASE("ParseJson reads numbers too small for a double as zero like nlohmann", "[kube][json]") {
  for (const std::string text : {"1e-400", "-2.5E-330", "[0.1e-9999]", "2e-324", "4.9e-324"}) {
    INFO(text);
    const auto ours = ParseJson(text);
    REQUIRE(ours);
    CHECK(ours->dump() == nlohmann::json::parse(text).dump());
  }
  CHECK_FALSE(ParseJson("-1e400"));
}

TEST_CASE("ParseJson refuses strings that are not valid UTF-8 like nlohmann", "[kube][json]") {
  for (const std::string text :
       {"\"\x80\"", "\"a\xC3\"", "\"\xC0\xAF\"", "\"\xE0\x80\xAF\"", "\"\xED\xA0\x80\"",
        "\"\xF4\x90\x80\x80\"", "\"\xF5\x80\x80\x80\"", "{\"k\xFF\":1}", "\"\xE2\x82\""}) {
    INFO(nlohmann::json(text).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace));
    CHECK_FALSE(nlohmann::json::accept(text));
    CHECK_FALSE(ParseJson(text));
  }
  for (const std::string text : {"\"\xC2\x80\"", "\"\xE0\xA0\x80\"", "\"\xED\x9F\xBF\"",
                                 "\"\xF0\x90\x80\x80\"", "\"\xF4\x8F\xBF\xBF\""}) {
    REQUIRE(ParseJson(text));
    CHECK(ParseJson(text)->get<std::string>() == nlohmann::json::parse(text).get<std::string>());
  }
}

}  // namespace
}  // namespace globalsvc::kube
