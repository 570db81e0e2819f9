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

TEST_CASE("Keys longer than YAML's implicit-key limit read back", "[base][yaml]") {
  // Found by the yaml_json fuzzer: a 1,100-character key was emitted as an
  // implicit key, which YAML parsers refuse past 1024 characters.
  const std::string long_key(1100, 'k');
  const std::string long_quoted = std::string(600, '\x11') + "x";  // escapes make it longer
  const nlohmann::json value = {
      {long_key, "v"},
      {long_quoted, {{"nested", 1}}},
      {"list", {{{long_key, {1, 2}}, {"b", "c"}}}},
      {"short", {long_key}},
  };
  const std::string text = EmitYaml(value);
  auto back = ParseYamlDocuments(text);
  INFO(text.substr(0, 400));
  REQUIRE(back.ok());
  REQUIRE(back->size() == 1);
  CHECK((*back)[0] == value);
  CHECK(EmitYaml(nlohmann::json{{"k", "v"}}) == "k: v\n");
}

TEST_CASE("A byte-order mark and Unicode line breaks in strings read back", "[base][yaml]") {
  // Found by the yaml_json fuzzer: a string starting with U+FEFF was emitted
  // plain at the start of the document, and the reader dropped it as a BOM.
  for (const std::string text : {"\xEF\xBB\xBF"
                                 "x",
                                 "a\xC2\x85"
                                 "b",
                                 "a\xE2\x80\xA8"
                                 "b",
                                 "a\xE2\x80\xA9"
                                 "b",
                                 "\xEF\xBB\xBF"
                                 "x: \xF0\x9F\x98\x80"}) {
    for (const nlohmann::json& value : {nlohmann::json(text), nlohmann::json{{text, text}}}) {
      const std::string emitted = EmitYaml(value);
      auto back = ParseYamlDocuments(emitted);
      INFO(emitted);
      REQUIRE(back.ok());
      REQUIRE(back->size() == 1);
      CHECK((*back)[0] == value);
    }
  }
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

TEST_CASE("Long number-like scalars do not exhaust the stack", "[base][yaml]") {
  // Scalars are typed without std::regex, which recursed once per character.
  const std::string digits(4'000'000, '7');
  auto docs = ParseYamlDocuments("a: " + digits + "\nb: '1" + digits + "'\n");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  CHECK((*docs)[0]["a"] == digits);  // too large for any number type
  CHECK((*docs)[0]["b"] == "1" + digits);
  const std::string text = EmitYaml((*docs)[0]);
  CHECK(text.find("b: \"1777") != std::string::npos);
  CHECK_FALSE(IsPlainYamlSafe("1" + digits));
  CHECK(IsPlainYamlSafe("x" + digits));
}

TEST_CASE("Scalar typing without regular expressions keeps its grammar", "[base][yaml]") {
  auto docs = ParseYamlDocuments(
      "[0x1F, 0o17, +4, -0, 0x, 0o8, 1., .5, -.5e3, 1e, 1.5E+2, 6.02e23, ., +, -, 1_000, 0b1]");
  REQUIRE(docs.ok());
  const nlohmann::json expected = nlohmann::json::parse(
      R"([31, 15, 4, 0, "0x", "0o8", 1.0, 0.5, -500.0, "1e", 150.0, 6.02e23, ".", "+", "-",
          "1_000", "0b1"])");
  CHECK((*docs)[0] == expected);
  CHECK(IsPlainYamlSafe("10.244.0.5"));
  CHECK_FALSE(IsPlainYamlSafe("1.2.3"));  // not a dotted quad, and starts with a digit
  CHECK_FALSE(IsPlainYamlSafe("1234.5.6.7"));
  CHECK_FALSE(IsPlainYamlSafe("-.inf"));
  CHECK(IsPlainYamlSafe(".x"));
}

TEST_CASE("A document starting with a comma is an error and not an endless loop", "[base][yaml]") {
  for (const char* bad : {",", ", x", "---\n,", "a: 1\n---\n,\n", "- a\n,", "# c\n ,"}) {
    INFO(bad);
    auto docs = ParseYamlDocuments(bad);
    REQUIRE_FALSE(docs.ok());
    CHECK_THAT(docs.error().message, Catch::StartsWith("YAML error at line"));
  }
}

TEST_CASE("Text that is not UTF-8 is an error and emitting never throws", "[base][yaml]") {
  for (const char* bad : {"a: \"x\xa1y\"\n", "k\xff: v\n", "- \xc3\n", "a: \xed\xa0\x80\n"}) {
    INFO(nlohmann::json(bad).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace));
    auto docs = ParseYamlDocuments(bad);
    REQUIRE_FALSE(docs.ok());
    CHECK_THAT(docs.error().message, Catch::Contains("not valid UTF-8"));
  }
  auto good = ParseYamlDocuments("name: caf\xc3\xa9 \xe2\x98\x83\n");
  REQUIRE(good.ok());
  CHECK((*good)[0]["name"] == "caf\xc3\xa9 \xe2\x98\x83");
  // A value built by hand: bytes that are not UTF-8 are replaced.
  CHECK(EmitYaml(nlohmann::json{{"k", "x\xa1y"}}) == "k: \"x\xef\xbf\xbdy\"\n");
}

TEST_CASE("Aliases copy their anchor within bounds", "[base][yaml]") {
  auto docs = ParseYamlDocuments("base: &b {a: 1, l: [x]}\ncopy: *b\n&k key: 2\n*k : 3\n");
  REQUIRE(docs.ok());
  CHECK((*docs)[0]["copy"] == (*docs)[0]["base"]);
  CHECK((*docs)[0]["key"] == 3);

  auto cycle = ParseYamlDocuments("a: &x [1, *x]\n");
  REQUIRE_FALSE(cycle.ok());
  CHECK_THAT(cycle.error().message, Catch::Contains("own anchor"));

  // "Billion laughs": nine levels of ten aliases each would be 10^9 values.
  std::string laughs = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int level = 1; level <= 9; ++level) {
    // Appends only: GCC 12 at -O3 wrongly reports "literal" + std::to_string()
    // as an overlapping memcpy (-Wrestrict).
    const std::string name = std::to_string(level);
    const std::string previous = std::to_string(level - 1);
    laughs.append("l").append(name).append(": &l").append(name).append(" [");
    for (int i = 0; i < 10; ++i)
      laughs.append(i ? ", *l" : "*l").append(previous);
    laughs.append("]\n");
  }
  auto bomb = ParseYamlDocuments(laughs);
  REQUIRE_FALSE(bomb.ok());
  CHECK_THAT(bomb.error().message, Catch::Contains("too many values"));

  // Few values, many bytes: 20,000 aliases to a 4 KB string would be 80 MB.
  std::string wide = "s: &s " + std::string(4096, 'x') + "\nl:\n";
  for (int i = 0; i < 20'000; ++i)
    wide += "- *s\n";
  auto wide_bomb = ParseYamlDocuments(wide);
  REQUIRE_FALSE(wide_bomb.ok());
  CHECK_THAT(wide_bomb.error().message, Catch::Contains("aliases expand to more than 8 MiB"));
  // The same shape within the bound still parses.
  std::string modest = "s: &s " + std::string(4096, 'x') + "\nl:\n";
  for (int i = 0; i < 100; ++i)
    modest += "- *s\n";
  auto fine = ParseYamlDocuments(modest);
  REQUIRE(fine.ok());
  CHECK((*fine)[0]["l"].size() == 100);
}

TEST_CASE("A mapping key must be a scalar", "[base][yaml]") {
  auto docs = ParseYamlDocuments("? [a, b]\n: c\n");
  REQUIRE_FALSE(docs.ok());
  CHECK_THAT(docs.error().message, Catch::StartsWith("YAML error at line 1"));
  auto nulls = ParseYamlDocuments("~: a\n: b\n");
  REQUIRE(nulls.ok());
  CHECK((*nulls)[0] == nlohmann::json{{"null", "b"}});
}

}  // namespace
}  // namespace globalsvc
