// How long an unreachable remote cluster keeps its endpoints
// (--remote-stale-timeout), with the time passed in, and the duration flag.

#include "controller/remote_staleness.h"

#include <catch2/catch.hpp>

#include "cli/flags.h"

namespace globalsvc::controller {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

const TimePoint kStart = TimePoint{} + 1000s;

TEST_CASE("A reachable remote cluster is live and forgets its outage", "[staleness]") {
  const auto decision = DecideStaleness(true, kStart, kStart + 5s, 10s);
  CHECK(decision.condition == RemoteCondition::kLive);
  CHECK_FALSE(decision.unreachable_since.has_value());
}

TEST_CASE("An unreachable remote cluster is stale until the timeout and then removed",
          "[staleness]") {
  // First seen unreachable: the outage starts now.
  auto decision = DecideStaleness(false, std::nullopt, kStart, 10s);
  CHECK(decision.condition == RemoteCondition::kStale);
  REQUIRE(decision.unreachable_since == kStart);

  decision = DecideStaleness(false, decision.unreachable_since, kStart + 9999ms, 10s);
  CHECK(decision.condition == RemoteCondition::kStale);
  CHECK(decision.unreachable_since == kStart);

  decision = DecideStaleness(false, decision.unreachable_since, kStart + 10s, 10s);
  CHECK(decision.condition == RemoteCondition::kRemoved);
  CHECK(decision.unreachable_since == kStart);

  // Back: live at once, and a later outage counts from its own start.
  decision = DecideStaleness(true, decision.unreachable_since, kStart + 60s, 10s);
  CHECK(decision.condition == RemoteCondition::kLive);
  decision = DecideStaleness(false, decision.unreachable_since, kStart + 61s, 10s);
  CHECK(decision.condition == RemoteCondition::kStale);
  CHECK(decision.unreachable_since == kStart + 61s);
}

TEST_CASE("A zero stale timeout keeps an unreachable cluster's endpoints forever", "[staleness]") {
  const auto decision = DecideStaleness(false, kStart, kStart + std::chrono::hours(24 * 365), 0s);
  CHECK(decision.condition == RemoteCondition::kStale);
  CHECK(decision.unreachable_since == kStart);
  CHECK(std::string(RemoteConditionName(decision.condition)) == "stale");
}

TEST_CASE("Durations of the remote stale timeout flag", "[staleness][flags]") {
  std::chrono::milliseconds out{-1};
  CHECK(cli::ParseDuration("0", out));
  CHECK(out == 0ms);
  CHECK(cli::ParseDuration("90", out));
  CHECK(out == 90s);
  CHECK(cli::ParseDuration("10s", out));
  CHECK(out == 10s);
  CHECK(cli::ParseDuration("10m", out));
  CHECK(out == 600s);
  CHECK(cli::ParseDuration("1h30m", out));
  CHECK(out == 5400s);
  CHECK(cli::ParseDuration("1500ms", out));
  CHECK(out == 1500ms);

  out = 7s;
  for (const char* bad : {"", "-5s", "5x", "s", "1m30", "1.5s", "10 s", "9999999999s"}) {
    INFO(bad);
    CHECK_FALSE(cli::ParseDuration(bad, out));
    CHECK(out == 7s);
  }
}

}  // namespace
}  // namespace globalsvc::controller
