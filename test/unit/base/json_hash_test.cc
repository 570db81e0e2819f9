#include "lib/base/json_hash.h"

#include <catch2/catch.hpp>

#include "lib/base/hash.h"

namespace globalsvc {
namespace {

using nlohmann::json;

std::uint64_t HashOf(const json& value) {
  Fnv1a64Stream hash;
  hash.AddJson(value);
  return hash.value();
}

TEST_CASE("JSON values hash equal exactly when their texts are equal", "[base][hash]") {
  // Parsed 80 is unsigned, built 80 is signed: one number, as in dump().
  CHECK(HashOf(json::parse("{\"port\": 80}")) == HashOf(json{{"port", 80}}));
  CHECK(HashOf(json(std::int64_t{-3})) != HashOf(json(std::uint64_t{3})));
  CHECK(HashOf(json(1)) != HashOf(json(1.0)));  // "1" and "1.0"
  CHECK(HashOf(json(0.5)) == HashOf(json::parse("0.5")));
  CHECK(HashOf(json("1")) != HashOf(json(1)));
  CHECK(HashOf(json(true)) != HashOf(json("true")));
  CHECK(HashOf(json(nullptr)) != HashOf(json::object()));
  CHECK(HashOf(json::array()) != HashOf(json::object()));
  CHECK(HashOf(json::array({"ab", "c"})) != HashOf(json::array({"a", "bc"})));
  CHECK(HashOf(json::array({1, 2})) != HashOf(json::array({2, 1})));
  // Member order in the text does not matter; names and values do.
  CHECK(HashOf(json::parse(R"({"a":1,"b":[true,null]})")) ==
        HashOf(json::parse(R"({"b":[true,null],"a":1})")));
  CHECK(HashOf(json{{"a", 1}}) != HashOf(json{{"b", 1}}));
  CHECK(HashOf(json{{"a", json::object()}}) != HashOf(json{{"a", json::array()}}));
  // Text that is not UTF-8 hashes (dump() would throw on it).
  CHECK_NOTHROW(HashOf(json(std::string("\xff\xfe"))));
}

TEST_CASE("Strings and tags fed one after another stay apart", "[base][hash]") {
  Fnv1a64Stream first;
  first.AddString("ab");
  first.AddString("c");
  Fnv1a64Stream second;
  second.AddString("a");
  second.AddString("bc");
  CHECK(first.value() != second.value());
  Fnv1a64Stream empty;
  CHECK(empty.value() == Fnv1a64(""));
}

}  // namespace
}  // namespace globalsvc
