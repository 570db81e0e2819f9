// Reads of JSON from outside: any shape reads as absent, never throws.

#include "lib/base/json_fields.h"

#include <catch2/catch.hpp>

namespace globalsvc {
namespace {

using nlohmann::json;

TEST_CASE("Fields of the wrong type or shape read as absent", "[base][json]") {
  const json object = json::parse(
      R"({"metadata":{"name":"a","resourceVersion":12,"labels":"x"},"code":503,"big":18446744073709551615})");
  CHECK(StringFieldAt(object, {"metadata", "name"}) == "a");
  CHECK(StringFieldAt(object, {"metadata", "resourceVersion"}).empty());
  CHECK(StringFieldAt(object, {"metadata", "labels", "app"}).empty());
  CHECK(StringFieldAt(object, {"missing", "name"}).empty());
  CHECK(IntFieldAt(object, {"code"}) == 503);
  CHECK_FALSE(IntFieldAt(object, {"metadata", "name"}).has_value());
  CHECK_FALSE(IntFieldAt(object, {"big"}).has_value());
  for (const json& odd : {json::array(), json("text"), json(), json(7)}) {
    CHECK(FieldOf(odd, "metadata") == nullptr);
    CHECK(StringFieldAt(odd, {"metadata", "name"}).empty());
  }
}

TEST_CASE("DumpJson replaces bytes that are not UTF-8 instead of throwing", "[base][json]") {
  const json value = {{"note", std::string("d\xE9"
                                           "faillance")}};
  CHECK_THROWS(value.dump());
  CHECK(DumpJson(value) ==
        "{\"note\":\"d\xEF\xBF\xBD"
        "faillance\"}");
}

}  // namespace
}  // namespace globalsvc
