#include "lib/observability/logging.h"

#include <spdlog/sinks/ostream_sink.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

namespace globalsvc::obs {
namespace {

using nlohmann::json;

// Logs one record through the project's formatter and returns the line.
std::string FormatOne(LogFormat format, spdlog::level::level_enum level, const std::string& text,
                      const std::string& component = "reflector") {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  sink->set_formatter(MakeLogFormatter(format));
  spdlog::logger logger(component, sink);
  logger.set_level(spdlog::level::trace);
  logger.log(level, text);
  return out.str();
}

json JsonLine(const std::string& line) {
  REQUIRE(!line.empty());
  REQUIRE(line.back() == '\n');
  REQUIRE(line.find('\n') == line.size() - 1);
  return json::parse(line);
}

TEST_CASE("JSON log lines parse and carry ts, level, component, msg and fields",
          "[observability]") {
  const json line = JsonLine(FormatOne(LogFormat::kJson, spdlog::level::info,
                                       "list done cluster=c1 items=42 error=connection refused"));
  CHECK(std::regex_match(line.at("ts").get<std::string>(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  CHECK(line.at("level") == "info");
  CHECK(line.at("component") == "reflector");
  CHECK(line.at("msg") == "list done");
  CHECK(line.at("cluster") == "c1");
  CHECK(line.at("error") == "connection refused");
  CHECK(line.at("items") == "42");
  CHECK(line.size() == 7);

  // An error text that holds key=value words is one field, not several.
  const json error = JsonLine(FormatOne(LogFormat::kJson, spdlog::level::err,
                                        "apply failed key=ns/svc error=server said code=500 "
                                        "reason=InternalError cluster=x "));
  CHECK(error.at("msg") == "apply failed");
  CHECK(error.at("key") == "ns/svc");
  CHECK(error.at("error") == "server said code=500 reason=InternalError cluster=x");
  CHECK(error.size() == 6);

  const json quoted = JsonLine(FormatOne(LogFormat::kJson, spdlog::level::warn,
                                         R"(apply failed reason="a b \"c\"" key=ns/svc)"));
  CHECK(quoted.at("level") == "warn");
  CHECK(quoted.at("msg") == "apply failed");
  CHECK(quoted.at("reason") == "a b \"c\"");
  CHECK(quoted.at("key") == "ns/svc");
}

TEST_CASE("JSON log lines keep ambiguous messages whole and stay valid JSON", "[observability]") {
  const json plain = JsonLine(FormatOne(LogFormat::kJson, spdlog::level::err, "hello world"));
  CHECK(plain.at("level") == "error");
  CHECK(plain.at("msg") == "hello world");

  const json reserved =
      JsonLine(FormatOne(LogFormat::kJson, spdlog::level::info, "done msg=x level=y"));
  CHECK(reserved.at("msg") == "done msg=x level=y");
  CHECK(reserved.at("level") == "info");

  const json repeated = JsonLine(FormatOne(LogFormat::kJson, spdlog::level::info, "a k=1 k=2"));
  CHECK(repeated.at("msg") == "a k=1 k=2");

  const json unterminated =
      JsonLine(FormatOne(LogFormat::kJson, spdlog::level::info, R"(a k="open)"));
  CHECK(unterminated.at("msg") == R"(a k="open)");

  const json odd = JsonLine(FormatOne(LogFormat::kJson, spdlog::level::critical,
                                      std::string("bad \xff\xfe bytes\ttab\nline \x01 end")));
  CHECK(odd.at("level") == "critical");
  CHECK(odd.at("msg") == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes\ttab\nline \x01 end");

  const json utf8 = JsonLine(FormatOne(LogFormat::kJson, spdlog::level::info, "zone=Zürich"));
  CHECK(utf8.at("msg") == "");
  CHECK(utf8.at("zone") == "Zürich");
}

TEST_CASE("Text log lines: time, padded level, component, message", "[observability]") {
  const std::string info = FormatOne(LogFormat::kText, spdlog::level::info, "list done cluster=c1");
  CHECK(std::regex_match(info, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info  )"
                                          R"(component=reflector list done cluster=c1\n)")));
  const std::string warn =
      FormatOne(LogFormat::kText, spdlog::level::warn, "two\nlines", "remote-clusters");
  CHECK(warn.find(" warn  component=remote-clusters two\\nlines\n") != std::string::npos);
  const std::string error = FormatOne(LogFormat::kText, spdlog::level::err, "x");
  CHECK(error.find(" error component=reflector x\n") != std::string::npos);
}

TEST_CASE("ParseLogFormat", "[observability]") {
  CHECK(ParseLogFormat("text") == LogFormat::kText);
  CHECK(ParseLogFormat("json") == LogFormat::kJson);
  CHECK(ParseLogFormat("JSON") == LogFormat::kJson);
  CHECK_FALSE(ParseLogFormat("xml").has_value());
  CHECK_FALSE(ParseLogFormat("").has_value());
}

TEST_CASE("Component loggers share one sink and follow ConfigureLogging", "[observability]") {
  auto reflector = ComponentLogger("test-reflector");
  auto reconciler = ComponentLogger("test-reconciler");
  CHECK(ComponentLogger("test-reflector") == reflector);
  CHECK(reflector->name() == "test-reflector");
  REQUIRE(reflector->sinks().size() == 1);
  REQUIRE(reconciler->sinks().size() == 1);
  CHECK(reflector->sinks().front() == reconciler->sinks().front());

  ConfigureLogging(LogFormat::kJson, spdlog::level::debug);
  CHECK(reflector->level() == spdlog::level::debug);
  CHECK(ComponentLogger("test-later")->level() == spdlog::level::debug);
  CHECK(spdlog::default_logger()->sinks().front() == reflector->sinks().front());
  CHECK(spdlog::default_logger()->level() == spdlog::level::debug);

  ConfigureLogging(LogFormat::kText, spdlog::level::warn);
  CHECK(reconciler->level() == spdlog::level::warn);
}

}  // namespace
}  // namespace globalsvc::obs
