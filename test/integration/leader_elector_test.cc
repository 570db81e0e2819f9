// Lease leader election between two electors on a real API server.

#include "lib/kube/leader_elector.h"

#include <catch2/catch.hpp>

#include "test/integration/kube_test_bed.h"

namespace globalsvc::kube {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;
using testing::MakeClient;
using testing::RequireTestBed;
using testing::ScratchNamespace;

struct Candidate {
  std::atomic<bool> working = false;
  std::atomic<int> terms = 0;
  std::unique_ptr<LeaderElector> elector;

  Candidate(KubeClient& client, const std::string& ns, const std::string& identity,
            bool release_on_stop) {
    LeaderElectionConfig config;
    config.namespace_name = ns;
    config.lease_name = "globalsvc-leader";
    config.identity = identity;
    // Short timings keep the test quick; the ratios are the defaults'.
    config.lease_duration = 3000ms;
    config.renew_deadline = 2000ms;
    config.retry_period = 400ms;
    config.release_on_stop = release_on_stop;
    LeaderCallbacks callbacks;
    callbacks.on_started_leading = [this](std::stop_token stop) {
      working = true;
      ++terms;
      std::mutex mutex;
      std::condition_variable_any cv;
      std::unique_lock lock(mutex);
      cv.wait(lock, stop, [] { return false; });
      working = false;
    };
    elector = std::make_unique<LeaderElector>(client, config, callbacks);
  }
};

TEST_CASE(
    "Of two electors exactly one leads and a stopped leader hands over within the lease duration",
    "[integration][leader]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-leader");
  const bool release = GENERATE(true, false);
  INFO("release_on_stop " << release);
  Candidate a(*client, ns.name(), "a", release);
  Candidate b(*client, ns.name(), "b", release);
  a.elector->Start();
  b.elector->Start();
  REQUIRE(Eventually(10s, [&] { return a.elector->IsLeader() || b.elector->IsLeader(); }));
  // Hold for a few renewals: never both.
  for (int i = 0; i < 30; ++i) {
    CHECK_FALSE((a.elector->IsLeader() && b.elector->IsLeader()));
    CHECK_FALSE((a.working && b.working));
    std::this_thread::sleep_for(100ms);
  }
  Candidate& leader = a.elector->IsLeader() ? a : b;
  Candidate& follower = &leader == &a ? b : a;
  CHECK(leader.working);
  CHECK(follower.elector->observed_leader() == (&leader == &a ? "a" : "b"));

  const auto stopped_at = std::chrono::steady_clock::now();
  leader.elector->Stop();
  CHECK_FALSE(leader.working);
  CHECK_FALSE(leader.elector->IsLeader());
  REQUIRE(Eventually(10s, [&] { return follower.elector->IsLeader(); }));
  const auto handover = std::chrono::steady_clock::now() - stopped_at;
  INFO("handover took " << std::chrono::duration_cast<std::chrono::milliseconds>(handover).count()
                        << " ms");
  // Lease duration plus one jittered retry period.
  CHECK(handover <= 3000ms + 600ms);
  CHECK(Eventually(2s, [&] { return follower.working.load(); }));
  follower.elector->Stop();
}

TEST_CASE("A leader that cannot renew stops its work at the renew deadline",
          "[integration][leader]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-leader-loss");
  Candidate a(*client, ns.name(), "a", false);
  a.elector->Start();
  REQUIRE(Eventually(10s, [&] { return a.elector->IsLeader() && a.working; }));
  REQUIRE(tb.bed->StopComponent(tb.cluster, testsupport::Component::kApiServer, true).ok());
  const auto down_at = std::chrono::steady_clock::now();
  REQUIRE(Eventually(10s, [&] { return !a.working; }));
  const auto stopped_after = std::chrono::steady_clock::now() - down_at;
  const bool leader_while_down = a.elector->IsLeader();
  REQUIRE(tb.bed->StartComponent(tb.cluster, testsupport::Component::kApiServer).ok());
  INFO("work stopped after "
       << std::chrono::duration_cast<std::chrono::milliseconds>(stopped_after).count() << " ms");
  CHECK(stopped_after <= 2000ms + 500ms);  // renew deadline after the last renewal
  CHECK_FALSE(leader_while_down);
  // Once the server is back the same candidate can lead again.
  CHECK(Eventually(30s, [&] { return a.elector->IsLeader(); }));
  a.elector->Stop();
}

}  // namespace
}  // namespace globalsvc::kube
