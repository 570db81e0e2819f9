#include "lib/kube/watch_decoder.h"

#include <catch2/catch.hpp>

namespace globalsvc::kube {
namespace {

std::string Event(const std::string& type, const std::string& name, const std::string& rv) {
  return R"({"type":")" + type + R"(","object":{"kind":"ConfigMap","metadata":{"name":")" + name +
         R"(","resourceVersion":")" + rv + "\"}}}\n";
}

std::vector<std::string> DecodeInChunks(const std::string& stream, std::size_t chunk) {
  WatchDecoder decoder;
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < stream.size(); i += chunk) {
    auto result = decoder.Feed(std::string_view(stream).substr(i, chunk), [&](WatchEvent&& e) {
      seen.push_back(std::string(WatchEventTypeName(e.type)) + ":" +
                     e.object["metadata"]["name"].get<std::string>());
      return true;
    });
    REQUIRE(result.ok());
  }
  CHECK(decoder.pending_bytes() == 0);
  return seen;
}

TEST_CASE("Watch events decode whatever the chunking", "[kube][watch]") {
  const std::string stream = Event("ADDED", "a", "1") + Event("MODIFIED", "a", "2") + "\n" +
                             Event("BOOKMARK", "", "3") + Event("DELETED", "a", "4");
  const std::vector<std::string> expected = {"ADDED:a", "MODIFIED:a", "BOOKMARK:", "DELETED:a"};
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{64}, stream.size()}) {
    INFO("chunk " << chunk);
    CHECK(DecodeInChunks(stream, chunk) == expected);
  }
}

TEST_CASE("An event split across chunks waits for its newline", "[kube][watch]") {
  WatchDecoder decoder;
  int events = 0;
  const auto count = [&](WatchEvent&&) {
    ++events;
    return true;
  };
  const std::string event = Event("ADDED", "a", "1");
  REQUIRE(decoder.Feed(event.substr(0, 10), count).ok());
  CHECK(events == 0);
  CHECK(decoder.pending_bytes() == 10);
  REQUIRE(decoder.Feed(event.substr(10), count).ok());
  CHECK(events == 1);
}

TEST_CASE("The handler can stop decoding", "[kube][watch]") {
  WatchDecoder decoder;
  int events = 0;
  auto result =
      decoder.Feed(Event("ADDED", "a", "1") + Event("ADDED", "b", "2"), [&](WatchEvent&&) {
        ++events;
        return false;
      });
  REQUIRE(result.ok());
  CHECK_FALSE(*result);
  CHECK(events == 1);
}

TEST_CASE("Malformed events are errors, ERROR events carry a Status", "[kube][watch]") {
  WatchDecoder decoder;
  const auto ignore = [](WatchEvent&&) { return true; };
  CHECK_FALSE(decoder.Feed("{not json}\n", ignore).ok());
  CHECK_FALSE(WatchDecoder()
                  .Feed(R"({"type":"ADDED"})"
                        "\n",
                        ignore)
                  .ok());
  CHECK_FALSE(WatchDecoder()
                  .Feed(R"({"type":"EXPLODED","object":{}})"
                        "\n",
                        ignore)
                  .ok());
  auto error = DecodeWatchEvent(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})");
  REQUIRE(error.ok());
  CHECK(error->type == WatchEventType::kError);
  CHECK(error->object["code"] == 410);
}

}  // namespace
}  // namespace globalsvc::kube

namespace globalsvc::kube {
namespace {

TEST_CASE("managedFields is dropped from object.metadata only", "[kube][watch]") {
  const std::string event =
      R"({"type":"ADDED","object":{"metadata":{"name":"a","managedFields":[{"manager":"m","fieldsV1":{"f:data":{"k:{\"x\":\"]\"}":{}}}}],"annotations":{"managedFields":"keep"}},"data":{"managedFields":"keep"}}})";
  WatchDecoder decoder;
  nlohmann::json object;
  REQUIRE(decoder
              .Feed(event + "\n",
                    [&](WatchEvent&& e) {
                      object = std::move(e.object);
                      return true;
                    })
              .ok());
  CHECK_FALSE(object["metadata"].contains("managedFields"));
  CHECK(object["metadata"]["name"] == "a");
  CHECK(object["metadata"]["annotations"]["managedFields"] == "keep");
  CHECK(object["data"]["managedFields"] == "keep");

  // Last key of metadata, first key, and a look-alike inside a string value.
  const std::string last =
      R"({"type":"ADDED","object":{"metadata":{"name":"a","managedFields":[]}}})";
  const auto last_span = FindManagedFields(last);
  REQUIRE(last_span);
  CHECK(last.substr(0, last_span->first) + last.substr(last_span->second) ==
        R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})");
  const std::string first =
      R"({"type":"ADDED","object":{"metadata":{"managedFields":[1],"name":"a"}}})";
  const auto span = FindManagedFields(first);
  REQUIRE(span);
  CHECK(first.substr(0, span->first) + first.substr(span->second) ==
        R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})");
  CHECK_FALSE(
      FindManagedFields(R"({"type":"ADDED","object":{"data":{"x":"\"managedFields\":[1]"}}})"));
  CHECK_FALSE(FindManagedFields(R"({"type":"ADDED","object":{"spec":{"managedFields":[1]}}})"));

  WatchDecoder keeping(false);
  REQUIRE(keeping
              .Feed(event + "\n",
                    [&](WatchEvent&& e) {
                      object = std::move(e.object);
                      return true;
                    })
              .ok());
  CHECK(object["metadata"].contains("managedFields"));
}

TEST_CASE("Dropping managedFields keeps an event valid whatever whitespace surrounds it",
          "[kube][watch]") {
  // Tabs, carriage returns and spaces are JSON whitespace like any other: the
  // comma next to managedFields must go with it, or the event no longer
  // parses and the watch restarts forever.
  for (const std::string event :
       {"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\t\"managedFields\":[]}}}",
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\" ,\r \"managedFields\":[1]}}}",
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"managedFields\":[] ,\"name\":\"a\"}}}",
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"managedFields\":[]\t,\t\"name\":\"a\"}}"
        "}"}) {
    INFO(event);
    WatchDecoder decoder;
    nlohmann::json object;
    const auto result = decoder.Feed(event + "\n", [&](WatchEvent&& e) {
      object = std::move(e.object);
      return true;
    });
    REQUIRE(result.ok());
    CHECK(object == nlohmann::json::parse(R"({"metadata":{"name":"a"}})"));
  }
}

}  // namespace
}  // namespace globalsvc::kube
