#include "lib/observability/logging.h"

#include <spdlog/sinks/ostream_sink.h>

#include <catch2/catch.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

namespace globalsvc::obs {
namespace {

using nlohmann::json;

// An ostream sink with the project's formatter, and a logger on it.
struct Capture {
  explicit Capture(LogFormat format, const std::string& component = "reflector")
      : sink(std::make_shared<spdlog::sinks::ostream_sink_st>(out)),
        spdlog_logger(std::make_shared<spdlog::logger>(component, sink)),
        log(spdlog_logger) {
    sink->set_formatter(MakeLogFormatter(format));
    spdlog_logger->set_level(spdlog::level::trace);
  }
  std::ostringstream out;
  std::shared_ptr<spdlog::sinks::ostream_sink_st> sink;
  std::shared_ptr<spdlog::logger> spdlog_logger;
  Logger log;
};

std::string FormatOne(LogFormat format, spdlog::level::level_enum level, std::string_view message,
                      const LogFields& fields = {}, const std::string& component = "reflector") {
  Capture capture(format, component);
  capture.log.Log(level, message, fields);
  return capture.out.str();
}

json JsonLine(const std::string& line) {
  REQUIRE(!line.empty());
  REQUIRE(line.back() == '\n');
  REQUIRE(line.find('\n') == line.size() - 1);
  return json::parse(line);
}

TEST_CASE("JSON log lines carry ts, level, component, msg and typed fields", "[observability]") {
  const json line =
      JsonLine(FormatOne(LogFormat::kJson, spdlog::level::info, "listed",
                         {{"cluster", "c1"}, {"items", 42}, {"synced", true}, {"ratio", 0.5}}));
  CHECK(std::regex_match(line.at("ts").get<std::string>(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  CHECK(line.at("level") == "info");
  CHECK(line.at("component") == "reflector");
  CHECK(line.at("msg") == "listed");
  CHECK(line.at("cluster") == "c1");
  CHECK(line.at("items") == 42);
  CHECK(line.at("synced") == true);
  CHECK(line.at("ratio") == 0.5);
  CHECK(line.size() == 8);
}

TEST_CASE("A field's value is one field, whatever it holds", "[observability]") {
  // An error text holding key=value words, quotes and spaces stays one field.
  const std::string server_said =
      R"(server said code=500 reason="Internal Error" cluster=x {} {0} )";
  const json error = JsonLine(FormatOne(LogFormat::kJson, spdlog::level::err, "apply failed",
                                        {{"key", "ns/svc"}, {"error", server_said}}));
  CHECK(error.at("msg") == "apply failed");
  CHECK(error.at("key") == "ns/svc");
  CHECK(error.at("error") == server_said);
  CHECK(error.size() == 6);

  const std::string text = FormatOne(LogFormat::kText, spdlog::level::err, "apply failed",
                                     {{"key", "ns/svc"}, {"error", server_said}});
  CHECK(
      text.find(
          R"(apply failed key=ns/svc error="server said code=500 reason=\"Internal Error\" cluster=x {} {0} ")"
          "\n") != std::string::npos);
}

TEST_CASE("JSON keys stay unique and every line is valid JSON", "[observability]") {
  const json reserved = JsonLine(FormatOne(LogFormat::kJson, spdlog::level::info, "done",
                                           {{"msg", "x"}, {"level", "y"}, {"k", 1}, {"k", 2}}));
  CHECK(reserved.at("msg") == "done");
  CHECK(reserved.at("level") == "info");
  CHECK(reserved.at("msg_2") == "x");
  CHECK(reserved.at("level_2") == "y");
  CHECK(reserved.at("k") == 1);
  CHECK(reserved.at("k_2") == 2);

  const json odd = JsonLine(FormatOne(LogFormat::kJson, spdlog::level::critical,
                                      std::string("bad \xff\xfe bytes\ttab\nline \x01 end"),
                                      {{"zone", "Zürich"}, {"raw", std::string("\xc3(")}}));
  CHECK(odd.at("level") == "critical");
  CHECK(odd.at("msg") == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes\ttab\nline \x01 end");
  CHECK(odd.at("zone") == "Zürich");
  CHECK(odd.at("raw") == "\xEF\xBF\xBD(");

  // JSON has no NaN: a NaN number is written as text.
  const json nan = JsonLine(FormatOne(LogFormat::kJson, spdlog::level::info, "x",
                                      {{"value", std::numeric_limits<double>::quiet_NaN()}}));
  CHECK(nan.at("value") == "NaN");
}

TEST_CASE("Text from loggers that are not ours is the message, whole", "[observability]") {
  Capture json_capture(LogFormat::kJson);
  json_capture.spdlog_logger->info("done msg=x k=1 error=boom");
  const json plain = JsonLine(json_capture.out.str());
  CHECK(plain.at("msg") == "done msg=x k=1 error=boom");
  CHECK(plain.size() == 4);

  Capture text_capture(LogFormat::kText);
  text_capture.spdlog_logger->warn("two\nlines k=v");
  CHECK(text_capture.out.str().find(" warn  component=reflector two\\nlines k=v\n") !=
        std::string::npos);
}

TEST_CASE("Text log lines: time, padded level, component, message, logfmt fields",
          "[observability]") {
  const std::string info =
      FormatOne(LogFormat::kText, spdlog::level::info, "listed", {{"cluster", "c1"}, {"items", 3}});
  CHECK(std::regex_match(info, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info  )"
                                          R"(component=reflector listed cluster=c1 items=3\n)")));
  const std::string warn =
      FormatOne(LogFormat::kText, spdlog::level::warn, "two\nlines",
                {{"empty", ""}, {"tab", "a\tb"}, {"eq", "a=b"}}, "remote-clusters");
  CHECK(warn.find(R"( warn  component=remote-clusters two\nlines empty="" tab="a\tb" eq="a=b")"
                  "\n") != std::string::npos);
  const std::string bytes = FormatOne(LogFormat::kText, spdlog::level::err, "x",
                                      {{"zone", "Zürich"}, {"raw", std::string("\xff\x01")}});
  CHECK(bytes.find(R"( error component=reflector x zone=Zürich raw="\xff\x01")"
                   "\n") != std::string::npos);
}

TEST_CASE("A logger below its level writes nothing; a default one logs nowhere",
          "[observability]") {
  Capture capture(LogFormat::kText);
  capture.spdlog_logger->set_level(spdlog::level::warn);
  capture.log.Info("quiet", {{"k", 1}});
  CHECK_FALSE(capture.log.Enabled(spdlog::level::info));
  CHECK(capture.out.str().empty());
  capture.log.Warn("loud");
  CHECK(capture.out.str().find("loud") != std::string::npos);

  const Logger none;
  CHECK_FALSE(none.Enabled(spdlog::level::critical));
  none.Error("nowhere", {{"k", 1}});
}

TEST_CASE("ParseLogFormat", "[observability]") {
  CHECK(ParseLogFormat("text") == LogFormat::kText);
  CHECK(ParseLogFormat("json") == LogFormat::kJson);
  CHECK(ParseLogFormat("JSON") == LogFormat::kJson);
  CHECK_FALSE(ParseLogFormat("xml").has_value());
  CHECK_FALSE(ParseLogFormat("").has_value());
}

TEST_CASE("Component loggers share one sink and follow ConfigureLogging", "[observability]") {
  CHECK(ComponentLogger("test-reflector").Enabled(spdlog::level::critical));
  CHECK(ComponentLogger("test-reconciler").Enabled(spdlog::level::critical));
  auto reflector = spdlog::get("test-reflector");
  auto reconciler = spdlog::get("test-reconciler");
  REQUIRE(reflector != nullptr);
  REQUIRE(reconciler != nullptr);
  REQUIRE(reflector->sinks().size() == 1);
  REQUIRE(reconciler->sinks().size() == 1);
  CHECK(reflector->sinks().front() == reconciler->sinks().front());

  ConfigureLogging(LogFormat::kJson, spdlog::level::debug);
  CHECK(reflector->level() == spdlog::level::debug);
  CHECK(ComponentLogger("test-later").Enabled(spdlog::level::debug));
  CHECK_FALSE(ComponentLogger("test-later").Enabled(spdlog::level::trace));
  CHECK(spdlog::default_logger()->sinks().front() == reflector->sinks().front());
  CHECK(spdlog::default_logger()->level() == spdlog::level::debug);

  ConfigureLogging(LogFormat::kText, spdlog::level::warn);
  CHECK(reconciler->level() == spdlog::level::warn);
  CHECK_FALSE(ComponentLogger("test-reconciler").Enabled(spdlog::level::info));
}

}  // namespace
}  // namespace globalsvc::obs
