#include "lib/base/yaml_json.h"

#include <catch2/catch.hpp>

namespace globalsvc {
namespace {

TEST_CASE("YAML scalars are typed as Kubernetes reads them", "[base][yaml]") {
  auto docs = ParseYamlDocuments(R"(
port: 8000
negative: -3
hex: 0x1F
float: 1.5
flag: true
nothing: null
tilde: ~
quoted: "8000"
single: 'true'
text: hello world
ip: 10.0.0.1
version: "1.20"
explicit: !!str 42
)");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  const auto& d = (*docs)[0];
  CHECK(d["port"] == 8000);
  CHECK(d["port"].is_number_integer());
  CHECK(d["negative"] == -3);
  CHECK(d["hex"] == 31);
  CHECK(d["float"] == 1.5);
  CHECK(d["flag"] == true);
  CHECK(d["nothing"].is_null());
  CHECK(d["tilde"].is_null());
  CHECK(d["quoted"] == "8000");
  CHECK(d["single"] == "true");
  CHECK(d["text"] == "hello world");
  CHECK(d["ip"] == "10.0.0.1");
  CHECK(d["version"] == "1.20");
  CHECK(d["explicit"] == "42");
}

TEST_CASE("Multi-document streams skip empty documents", "[base][yaml]") {
  auto docs = ParseYamlDocuments("---\na: 1\n---\n---\nb: [1, 2]\n...\n");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  CHECK((*docs)[1]["b"] == nlohmann::json::array({1, 2}));
}

TEST_CASE("Malformed YAML gives an error with its position", "[base][yaml]") {
  for (const char* bad : {"a: [1, 2\n", "a: b: c\n", "a: {b: 1\n", "\t- x\n  y: :\n"}) {
    auto docs = ParseYamlDocuments(bad);
    INFO(bad);
    REQUIRE_FALSE(docs.ok());
    CHECK(docs.error().code == ErrorCode::kInvalidInput);
    CHECK_THAT(docs.error().message, Catch::StartsWith("YAML error at line"));
  }
}

TEST_CASE("Emitted YAML reads back as the same JSON", "[base][yaml]") {
  const nlohmann::json value = {
      {"apiVersion", "v1"},
      {"numbers", {1, -2, 3.5}},
      {"ambiguous", {"8000", "true", "no", "null", "~", "1.20", "0x10", "2025-03-06", ""}},
      {"special", {"a: b", "#comment", "- dash", " lead", "trail ", "[x]", "multi\nline", "*ref"}},
      {"plain",
       {"us-east-1/us-east-1a", "10.244.0.5", "fd00::5", "in-ambient.httpbin.mesh.internal"}},
      {"empty_object", nlohmann::json::object()},
      {"empty_array", nlohmann::json::array()},
      {"nested", {{"list", {{{"a", 1}, {"b", {{"c", "d"}}}}, {{"e", nlohmann::json::array()}}}}}},
      {"null", nullptr},
      {"bool", false},
  };
  const std::string text = EmitYaml(value);
  auto back = ParseYamlDocuments(text);
  REQUIRE(back.ok());
  REQUIRE(back->size() == 1);
  INFO(text);
  CHECK((*back)[0] == value);
}

TEST_CASE("Emitter layout matches kubectl's", "[base][yaml]") {
  const nlohmann::json value = {
      {"spec", {{"hosts", {"a.b"}}, {"ports", {{{"name", "http"}, {"number", 80}}}}}}};
  CHECK(EmitYaml(value) ==
        "spec:\n"
        "  hosts:\n"
        "  - a.b\n"
        "  ports:\n"
        "  - name: http\n"
        "    number: 80\n");
}

TEST_CASE("Plain-safety of strings", "[base][yaml]") {
  CHECK(IsPlainYamlSafe("PreferClose"));
  CHECK(IsPlainYamlSafe("10.244.0.5"));
  CHECK(IsPlainYamlSafe("topology.istio.io/cluster"));
  CHECK_FALSE(IsPlainYamlSafe(""));
  CHECK_FALSE(IsPlainYamlSafe("123"));
  CHECK_FALSE(IsPlainYamlSafe("yes"));
  CHECK_FALSE(IsPlainYamlSafe("2025-03-06T17:15:23Z"));
  CHECK_FALSE(IsPlainYamlSafe("a: b"));
}

}  // namespace
}  // namespace globalsvc
