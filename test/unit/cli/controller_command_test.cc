// Flags of `globalsvc controller` that are refused before anything starts,
// and the defaults its usage text states, which must be the options'.

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "controller/controller.h"

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

TEST_CASE("The controller command refuses positional arguments", "[cli]") {
  const Outcome outcome = Run({"--cluster-name", "cluster1", "cluster2"});
  CHECK(outcome.code == kExitUsage);
  CHECK_THAT(outcome.err, Catch::Contains("takes no positional arguments (got 'cluster2')"));
}

// The text after "(default " on the usage line of `flag`, up to ')', ',' or ';'.
std::string StatedDefault(const std::string& usage, const std::string& flag) {
  const auto line = usage.find("      " + flag + " ");
  if (line == std::string::npos) return "flag not in usage";
  const auto start = usage.find("(default ", line);
  if (start == std::string::npos) return "no default stated";
  const auto value = start + std::string("(default ").size();
  return usage.substr(value, usage.find_first_of("),;", value) - value);
}

std::string Number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

TEST_CASE("The controller's usage states the defaults the options hold", "[cli]") {
  std::ostringstream out, err;
  REQUIRE(RunController({"--help"}, {out, err}) == kExitOk);
  const std::string usage = out.str();
  const controller::ControllerOptions defaults;
  const std::vector<std::pair<std::string, std::string>> stated = {
      {"--namespace", defaults.control_plane_namespace},
      {"--host-suffix", defaults.host_suffix},
      {"--cluster-domain", defaults.cluster_domain},
      {"--trust-domain", defaults.trust_domain},
      {"--workers", std::to_string(defaults.workers)},
      {"--qps", Number(defaults.qps)},
      {"--status-qps", Number(defaults.status_qps)},
      {"--max-response-mib", std::to_string(defaults.max_response_mib)},
      {"--max-remote-objects", std::to_string(defaults.max_remote_objects)},
      {"--metrics-addr", defaults.metrics_address},
      {"--leader-elect", defaults.leader_elect ? "true" : "false"},
      {"--lease-name", defaults.lease_name},
  };
  for (const auto& [flag, value] : stated) {
    INFO(flag);
    CHECK(StatedDefault(usage, flag) == value);
  }
  // "--qps Q, --burst B ... (default 50, 100)": the second is the burst.
  const auto qps = usage.find("(default ", usage.find("      --qps "));
  CHECK(usage.substr(qps, usage.find(')', qps) - qps) ==
        "(default " + Number(defaults.qps) + ", " + std::to_string(defaults.burst));
}

}  // namespace
}  // namespace globalsvc::cli
