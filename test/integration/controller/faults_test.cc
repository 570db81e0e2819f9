// The controller under faults and bad input, against the real two-cluster
// test bed. Controllers for cluster1 run as child processes of the globalsvc
// binary (as in production: their own process, metrics over HTTP, logs on
// stderr at debug level), and every log is checked for the credentials the
// test handed out. Each case ends by asserting the exact ServiceEntry that
// cluster1 holds.
//
// Cases: remote Secret added / rotated / deleted; bad remote Secrets
// (malformed YAML, unknown context, wrong CA, 401, 403, dead address) and
// their repair; remote and local kube-apiserver killed and restarted; two
// replicas with leader handover; bad objects (unknown scope, UDP only, a
// name at the length limit).
//
// This file: remote Secrets added, rotated and deleted at run time, the
// legacy label, and bad remote Secrets with their repair. The other cases of
// this executable are in faults_apiservers_test.cc, faults_replicas_test.cc
// and faults_local_objects_test.cc; what they share is in faults_world.*.

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test/integration/controller/faults_world.h"

namespace globalsvc::controller::faults {
namespace {

TEST_CASE("A remote Secret added, rotated and deleted at run time",
          "[controller][faults][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(world);
  auto started = StartController(world, "faults-lifecycle", "globalsvc-faults-lifecycle");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));

  // Added: cluster2 appears behind its gateway.
  REQUIRE_OK(ApplySecret(bed, "faults-remote", world.admin));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));

  // Rotated twice while the ServiceEntry is polled: cluster2's gateway
  // endpoint must be there at every poll.
  EntryPoller poller(bed, Cluster2BehindGateway);
  const auto rotate = [&](const std::string& kubeconfig, int replicas) {
    const int before = controller.CountInLog("remote cluster reconnected cluster=cluster2");
    const int refused_before = controller.CountInLog("code=Forbidden");
    REQUIRE_OK(ApplySecret(bed, "faults-remote", kubeconfig));
    REQUIRE_OK(WaitFor("reconnected with the rotated Secret", 30s, [&](std::string* why) {
      *why = controller.Tail();
      return controller.CountInLog("remote cluster reconnected cluster=cluster2") > before;
    }));
    // Changes in cluster2 flow through the new connection.
    REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", replicas));
    REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(replicas)));
    REQUIRE_OK(WaitForMetric(controller, "cluster2 connected", [](const ControllerProcess& c) {
      return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 1.0;
    }));
    // Every watch of the new connection is allowed: a refused one would turn
    // the gauge above to 0 at the next health round, not at once.
    CHECK(controller.CountInLog("code=Forbidden") == refused_before);
  };
  // Same certificate, another user and context name.
  rotate(world.admin_renamed, 3);
  // A ServiceAccount token with read access only.
  rotate(world.reader, 2);
  CHECK_OK(poller.StopAfter(5));
  INFO("misses:\n" << Joined(poller.misses()));
  CHECK(poller.misses().empty());
  CHECK(controller.MetricOr0("globalsvc_remote_secret_errors_total") == 0);

  // Deleted: cluster2's endpoints leave.
  REQUIRE_OK(DeleteSecret(bed, "faults-remote"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
  StopAndCheckLog(world, controller);
}

TEST_CASE(
    "A Secret with the legacy istio/multiCluster label connects with a warning until relabelled",
    "[controller][faults][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(world);
  auto started = StartController(world, "faults-legacy-label", "globalsvc-faults-legacy");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));

  const std::string secret = "faults-legacy";
  REQUIRE_OK(bed.Apply("cluster1", testbed::RemoteSecretYaml(secret, "cluster2", world.admin,
                                                             "istio/multiCluster")));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  CHECK_OK(WaitForMetric(controller, "legacy label counted", [&](const ControllerProcess& c) {
    return c.MetricOr0("globalsvc_remote_secret_errors_total",
                       {{"secret", secret}, {"reason", "legacy-label"}}) >= 1;
  }));
  CHECK_OK(WaitFor("Warning Event RemoteClusterSecret", 30s, [&](std::string*) {
    return HasWarningEvent(bed, "cluster1", "istio-system", "Secret", secret,
                           "RemoteClusterSecret");
  }));

  // The migration the warning asks for, while the entry is polled: cluster2
  // stays connected throughout, and the warning stops.
  EntryPoller poller(bed, Cluster2BehindGateway);
  const auto label = [&](const std::string& change) {
    auto labelled = bed.Kubectl(
        "cluster1", {"label", "secret", "-n", "istio-system", secret, change, "--overwrite"});
    INFO(labelled.err);
    REQUIRE(labelled.ok());
  };
  label("globalsvc.solo.io/remote-cluster=true");
  REQUIRE_OK(WaitFor("own label seen", 30s, [&](std::string* why) {
    *why = controller.Tail();
    return controller.CountInLog("which istiod watches too: remove that label") >= 1;
  }));
  label("istio/multiCluster-");
  REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 3));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(3)));
  CHECK_OK(poller.StopAfter(3));
  INFO("misses:\n" << Joined(poller.misses()));
  CHECK(poller.misses().empty());
  CHECK(controller.CountInLog("remote cluster reconnected cluster=cluster2") == 0);
  CHECK(controller.CountInLog("remote cluster disconnected cluster=cluster2") == 0);

  // Any later look at the Secret (here a namespace filter, which reconnects)
  // warns no more.
  const double warnings = controller.MetricOr0("globalsvc_remote_secret_errors_total",
                                               {{"secret", secret}, {"reason", "legacy-label"}});
  auto annotated = bed.Kubectl("cluster1", {"annotate", "secret", "-n", "istio-system", secret,
                                            "globalsvc.solo.io/exclude-namespaces=kube-system"});
  INFO(annotated.err);
  REQUIRE(annotated.ok());
  REQUIRE_OK(WaitFor("reconnected with the namespace filter", 30s, [&](std::string* why) {
    *why = controller.Tail();
    return controller.CountInLog("remote cluster reconnected cluster=cluster2") == 1;
  }));
  CHECK(controller.MetricOr0("globalsvc_remote_secret_errors_total",
                             {{"secret", secret}, {"reason", "legacy-label"}}) == warnings);

  REQUIRE_OK(DeleteSecret(bed, secret));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
  StopAndCheckLog(world, controller);
}

TEST_CASE("Bad remote Secrets are reported, harm nothing, and recover once fixed",
          "[controller][faults][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(world);
  auto started = StartController(world, "faults-bad-secrets", "globalsvc-faults-bad");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));

  struct Bad {
    std::string secret;
    const std::string* kubeconfig;
    bool unusable_config;  // rejected when read, else fails when connecting
  };
  const std::vector<Bad> cases = {
      {"faults-malformed-yaml", &world.malformed_yaml, true},
      {"faults-missing-context", &world.missing_context, true},
      {"faults-wrong-ca", &world.wrong_ca, false},
      {"faults-wrong-token", &world.wrong_token, false},
      {"faults-no-rbac", &world.no_rbac, false},
      {"faults-dead-address", &world.dead_address, false},
  };
  for (const auto& bad : cases) {
    INFO("secret " << bad.secret);
    const double errors_before =
        controller.MetricOr0("globalsvc_watch_errors_total", {{"cluster", "cluster2"}});
    REQUIRE_OK(ApplySecret(bed, bad.secret, *bad.kubeconfig));
    if (bad.unusable_config) {
      CHECK_OK(WaitForMetric(controller, "secret error counted", [&](const ControllerProcess& c) {
        return c.MetricOr0("globalsvc_remote_secret_errors_total",
                           {{"secret", bad.secret}, {"reason", "invalid-kubeconfig"}}) >= 1;
      }));
      CHECK_OK(WaitFor("Warning Event RemoteClusterSecret", 30s, [&](std::string*) {
        return HasWarningEvent(bed, "cluster1", "istio-system", "Secret", bad.secret,
                               "RemoteClusterSecret");
      }));
      CHECK(controller.CountInLog("secret=" + bad.secret) >= 1);
    } else {
      CHECK_OK(WaitForMetric(
          controller, "cluster2 not connected, errors counted", [&](const ControllerProcess& c) {
            return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 0.0 &&
                   c.MetricOr0("globalsvc_watch_errors_total", {{"cluster", "cluster2"}}) >
                       errors_before;
          }));
      CHECK_OK(WaitFor("Warning Event RemoteClusterUnreachable", 30s, [&](std::string*) {
        return HasWarningEvent(bed, "cluster1", "istio-system", "Secret", bad.secret,
                               "RemoteClusterUnreachable");
      }));
    }
    // The controller runs on and cluster1's own endpoints are untouched.
    REQUIRE(controller.Running());
    CHECK(controller.Get("/healthz").has_value());
    auto entry = GetServiceEntry(bed, "cluster1", testbed::kGuideEntry);
    REQUIRE(entry);
    CHECK(EndpointLines(*entry) == kLocalView);

    // Fixing the Secret recovers without a restart.
    REQUIRE_OK(ApplySecret(bed, bad.secret, world.admin));
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
    CHECK_OK(WaitForMetric(controller, "cluster2 connected", [](const ControllerProcess& c) {
      return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 1.0;
    }));
    REQUIRE_OK(DeleteSecret(bed, bad.secret));
    REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
  }
  REQUIRE(controller.Running());
  StopAndCheckLog(world, controller);
}

}  // namespace
}  // namespace globalsvc::controller::faults
