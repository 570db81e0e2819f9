// Flags of `globalsvc controller` that are refused before anything starts.

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace globalsvc::cli {
namespace {

struct Outcome {
  int code;
  std::string err;
};

Outcome Run(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int code = RunController(args, {out, err});
  return {code, err.str()};
}

TEST_CASE("The controller command refuses bad flag values with a usage error", "[cli]") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--status-qps", "-1"}, "--status-qps must be a number, 0 or more"},
      {{"--status-qps", "fast"}, "--status-qps must be a number, 0 or more"},
      {{"--max-response-mib", "0"}, "--max-response-mib must be an integer from 1 to 4096"},
      {{"--max-response-mib", "5000"}, "--max-response-mib must be an integer from 1 to 4096"},
      {{"--max-remote-objects", "0"}, "--max-remote-objects must be a positive integer"},
      {{"--max-remote-objects", "many"}, "--max-remote-objects must be a positive integer"},
      {{"--qps", "fast"}, "--qps must be a number"},
      {{"--workers", "0"}, "--workers must be a positive integer"},
      {{"--leader-elect", "maybe"}, "--leader-elect is true or false"},
      {{"--remote-stale-timeout", "soon"}, "--remote-stale-timeout is a duration"},
  };
  for (const auto& [flags, message] : cases) {
    std::vector<std::string> args = {"--cluster-name", "cluster1"};
    args.insert(args.end(), flags.begin(), flags.end());
    INFO(flags[0] << " " << flags[1]);
    const Outcome outcome = Run(args);
    CHECK(outcome.code == kExitUsage);
    CHECK_THAT(outcome.err, Catch::Contains(message));
  }
  const Outcome missing = Run({"--status-qps", "5"});
  CHECK(missing.code == kExitUsage);
  CHECK_THAT(missing.err, Catch::Contains("--cluster-name"));
}

}  // namespace
}  // namespace globalsvc::cli
