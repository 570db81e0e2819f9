// A misbehaving remote cluster must not stall the controller or starve the
// local cluster: one that floods EndpointSlice changes, one that sends huge
// objects, one that answers slowly (through a delaying proxy; TLS is still
// verified against the remote's real certificate). Measured: the latency of a
// local change meanwhile, the controller's memory (VmRSS) and queue depth.

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <thread>

#include "lib/kube/kube_client.h"
#include "lib/mesh/model.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/integration/controller/fault_support.h"
#include "test/support/testbed.h"

namespace globalsvc::controller {
namespace {

using namespace testbed;
using nlohmann::json;
using testsupport::TestBed;
using testsupport::WaitFor;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kNamespace = "globalsvc-remote";

json GlobalService(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata",
           {{"name", name},
            {"namespace", kNamespace},
            {"labels", {{"solo.io/service-scope", "global"}}}}},
          {"spec", {{"ports", json::array({{{"name", "http"}, {"port", 80}}})}}}};
}

// `ready` ready endpoints (of `total`) for `service`, addresses from `base`.
json Slice(const std::string& service, int total, int ready, int base) {
  json endpoints = json::array();
  for (int i = 0; i < total; ++i) {
    const int n = base + i;
    endpoints.push_back({{"addresses", json::array({"10.253." + std::to_string(n / 250 % 250) +
                                                    "." + std::to_string(n % 250 + 1)})},
                         {"nodeName", "node-us-west-2a-0"},
                         {"conditions", {{"ready", i < ready}}}});
  }
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata",
           {{"name", service + "-slice"},
            {"namespace", kNamespace},
            {"labels", {{"kubernetes.io/service-name", service}}}}},
          {"addressType", "IPv4"},
          {"ports", json::array({{{"name", "http"}, {"port", 8080}}})},
          {"endpoints", endpoints}};
}

std::string Gateway(int weight) {
  return "cluster2 cluster2-network us-west-2/us-west-2a " + std::to_string(weight) + " gateway";
}

std::string EntryName(const std::string& service) {
  return "autogen." + std::string(kNamespace) + "." + service;
}

// Annotates cluster1's guide Service and returns how long until cluster1's
// ServiceEntry carries the value (negative on timeout).
double LocalChangeLatency(const TestBed& bed, const std::string& value) {
  const auto started = SteadyClock::now();
  auto annotated =
      bed.Kubectl("cluster1", {"annotate", "--overwrite", "service", "in-ambient", "-n", "httpbin",
                               "networking.istio.io/traffic-distribution=" + value});
  if (!annotated.ok()) return -1;
  const Status seen = WaitFor("local annotation " + value, 120s, [&](std::string*) {
    auto entry = GetServiceEntry(bed, "cluster1", kGuideEntry);
    return entry && testbed::RequestedDistribution(*entry) == value;
  });
  return seen.ok() ? Seconds(SteadyClock::now() - started) : -1;
}

void Prepare(const TestBed& bed) {
  StartClean(bed);
  for (const char* cluster : {"cluster1", "cluster2"}) {
    (void)bed.Kubectl(cluster, {"create", "namespace", kNamespace});  // may exist already
  }
}

void CleanUp(const TestBed& bed, ControllerProcess& controller) {
  (void)bed.Kubectl("cluster2", {"delete", "services", "--all", "-n", kNamespace});
  (void)bed.Kubectl("cluster2", {"delete", "endpointslices", "--all", "-n", kNamespace});
  (void)bed.Kubectl("cluster1", {"annotate", "service", "in-ambient", "-n", "httpbin",
                                 "networking.istio.io/traffic-distribution-"});
  REQUIRE_OK(DeleteSecret(bed, "faults-remote"));
  CHECK_OK(WaitForEndpoints(bed, "cluster1", LocalView()));
  // The remote's own services and its peer Gateway go too, by this
  // controller, so the next case's starts with nothing to clean up.
  CHECK_OK(WaitFor("the remote's services are gone from cluster1", 60s, [&](std::string* why) {
    auto entries = bed.Kubectl(
        "cluster1",
        {"get", "serviceentries.networking.istio.io,workloadentries.networking.istio.io", "-A",
         "-l", std::string(mesh::kParentServiceNamespaceLabel) + "=" + kNamespace, "-o", "name"});
    *why = entries.out;
    return entries.ok() && entries.out.empty();
  }));
  CHECK_OK(WaitForRemoteObjectsGone(bed, "cluster2"));
  REQUIRE(controller.Running());
  CHECK(controller.Terminate());
}

TEST_CASE("A remote flooding EndpointSlice changes does not starve the local cluster",
          "[controller][faults][testbed]") {
  TestBed& bed = SharedBed();
  Prepare(bed);
  constexpr int kServices = 10;
  auto remote = ApiClient(bed, "cluster2");
  for (int s = 0; s < kServices; ++s) {
    const std::string name = "flood-" + std::to_string(s);
    REQUIRE_OK(ServerSideApply(*remote, GlobalService(name)));
    REQUIRE_OK(ServerSideApply(*remote, Slice(name, 2, 2, s * 100)));
  }
  auto started = StartController("remote-flood", "globalsvc-faults-flood");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(ApplySecret(bed, "faults-remote", ReadFile(bed.Kubeconfig("cluster2"))));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  for (int s = 0; s < kServices; ++s) {
    REQUIRE_OK(
        WaitForEndpoints(bed, "cluster1", {Gateway(2)}, EntryName("flood-" + std::to_string(s))));
  }
  const double quiet = LocalChangeLatency(bed, "PreferClose");
  const std::int64_t rss_before = controller.RssKib();

  // The flood: every writer rewrites slices as fast as cluster2 takes them.
  std::atomic<bool> flooding{true};
  std::atomic<std::int64_t> updates{0};
  std::atomic<int> failures{0};
  // Clients are made here: Catch's assertions (in ApiClient) are not thread-safe.
  std::vector<std::unique_ptr<kube::KubeClient>> clients;
  for (int w = 0; w < 4; ++w)
    clients.push_back(ApiClient(bed, "cluster2"));
  std::vector<std::jthread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w, client = clients[static_cast<std::size_t>(w)].get()] {
      int round = 0;
      while (flooding) {
        const int s = (w + 4 * round) % kServices;
        const int total = 1 + (round * 7 + w) % 40;
        if (ServerSideApply(*client, Slice("flood-" + std::to_string(s), total, total / 2 + 1,
                                           s * 100 + round % 50))
                .ok()) {
          ++updates;
        } else {
          ++failures;
        }
        ++round;
      }
    });
  }
  const auto flood_started = SteadyClock::now();
  double worst = 0;
  double max_queue = 0;
  std::int64_t max_rss = rss_before;
  const std::vector<std::string> values = {"PreferRegion", "PreferNetwork", "PreferClose",
                                           "PreferRegion", "PreferNetwork"};
  for (const auto& value : values) {
    // Let the flood run between two local changes, sampling the queue.
    const auto until = SteadyClock::now() + 4s;
    while (SteadyClock::now() < until) {
      max_queue = std::max(max_queue, controller.MetricOr0("globalsvc_queue_depth"));
      max_rss = std::max(max_rss, controller.RssKib());
      std::this_thread::sleep_for(200ms);
    }
    const double latency = LocalChangeLatency(bed, value);
    CHECK(latency >= 0);
    worst = std::max(worst, latency);
  }
  flooding = false;
  writers.clear();
  const double flood_seconds = Seconds(SteadyClock::now() - flood_started);
  const std::int64_t rss_after = controller.RssKib();
  std::printf("flood: %lld slice updates in %.1f s (%.0f/s), %d failed\n",
              static_cast<long long>(updates.load()), flood_seconds,
              static_cast<double>(updates.load()) / flood_seconds, failures.load());

  // Settle every flooded service on a known state: exact afterwards.
  for (int s = 0; s < kServices; ++s) {
    REQUIRE_OK(ServerSideApply(*remote, Slice("flood-" + std::to_string(s), 3, 3, s * 100)));
  }
  const auto settled = SteadyClock::now();
  for (int s = 0; s < kServices; ++s) {
    CHECK_OK(WaitForEndpoints(bed, "cluster1", {Gateway(3)},
                              EntryName("flood-" + std::to_string(s)), 120s));
  }
  Figure("flood: remote slice updates per second",
         static_cast<double>(updates.load()) / flood_seconds, "/s");
  Figure("flood: local change visible, quiet", quiet);
  Figure("flood: local change visible during the flood, worst of 5", worst);
  Figure("flood: converged after the flood stopped", Seconds(SteadyClock::now() - settled));
  Figure("flood: controller VmRSS before", static_cast<double>(rss_before) / 1024, "MiB");
  Figure("flood: controller VmRSS max during", static_cast<double>(max_rss) / 1024, "MiB");
  Figure("flood: controller VmRSS after", static_cast<double>(rss_after) / 1024, "MiB");
  Figure("flood: max queue depth", max_queue, "keys");
  CHECK(updates.load() >= 100);
  CHECK(worst > 0);
  CHECK(worst < 20);  // generous: a loaded 2-core machine
  // Keys, not events, are queued: never more than the services there are.
  CHECK(max_queue <= kServices + 5);
  CHECK(max_rss < rss_before + 100 * 1024);
  CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  CleanUp(bed, controller);
}

TEST_CASE("Huge objects from a remote: no crash, the right plan", "[controller][faults][testbed]") {
  TestBed& bed = SharedBed();
  Prepare(bed);
  auto remote = ApiClient(bed, "cluster2");
  auto started = StartController("remote-huge", "globalsvc-faults-huge");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(ApplySecret(bed, "faults-remote", ReadFile(bed.Kubeconfig("cluster2"))));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  const std::int64_t rss_before = controller.RssKib();

  // A Service near the API's limits: 250 KiB of annotations (the limit is
  // 256 KiB) and about 0.5 MiB of labels, near etcd's 1.5 MiB per object.
  json huge = GlobalService("huge");
  huge["metadata"]["annotations"]["example.com/blob"] = std::string(250 * 1024, 'a');
  for (int i = 0; i < 6000; ++i) {
    huge["metadata"]["labels"]["example.com/label-" + std::to_string(i)] = std::string(60, 'v');
  }
  REQUIRE_OK(ServerSideApply(*remote, huge));
  // An EndpointSlice at the API's limit of 1000 endpoints, 700 ready.
  REQUIRE_OK(ServerSideApply(*remote, Slice("huge", 1000, 700, 0)));
  CHECK_OK(WaitForEndpoints(bed, "cluster1", {Gateway(700)}, EntryName("huge"), 120s));
  auto object = bed.Kubectl("cluster2", {"get", "service", "huge", "-n", kNamespace, "-o", "json"});
  REQUIRE(object.ok());
  Figure("huge: the remote Service's size", static_cast<double>(object.out.size()) / 1024 / 1024,
         "MiB");
  // Changes keep flowing from that cluster, and the local one is untouched.
  REQUIRE_OK(ServerSideApply(*remote, Slice("huge", 1000, 999, 0)));
  CHECK_OK(WaitForEndpoints(bed, "cluster1", {Gateway(999)}, EntryName("huge"), 60s));
  CHECK(LocalChangeLatency(bed, "PreferRegion") >= 0);
  CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  REQUIRE(controller.Running());
  Figure("huge: controller VmRSS before", static_cast<double>(rss_before) / 1024, "MiB");
  Figure("huge: controller VmRSS after", static_cast<double>(controller.RssKib()) / 1024, "MiB");
  CHECK(controller.RssKib() < rss_before + 100 * 1024);
  CleanUp(bed, controller);
  CHECK_OK(WaitFor("huge ServiceEntry removed", 60s, [&](std::string*) {
    return !GetServiceEntry(bed, "cluster1", EntryName("huge"));
  }));
}

TEST_CASE("A slow remote does not delay the local cluster", "[controller][faults][testbed]") {
  TestBed& bed = SharedBed();
  Prepare(bed);
  // cluster2 through a proxy that delays every chunk; the Secret names the
  // proxy at 127.0.0.1, which the remote's serving certificate covers, so
  // TLS verification stays on.
  TcpProxy proxy(std::stoi(bed.ClusterValue("cluster2", "APISERVER_PORT")));
  auto started = StartController("remote-slow", "globalsvc-faults-slow");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(ApplySecret(bed, "faults-remote",
                         KubeconfigThrough(ReadFile(bed.Kubeconfig("cluster2")), proxy.port())));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  // What an earlier case's controller left behind (a remote-only service's
  // objects it had no time to delete) is this one's to clean up at start;
  // from here on, a slow remote must not make it delete anything.
  const double deletes_before =
      controller.MetricOr0("globalsvc_writes_total", {{"kind", "delete"}});
  const double quiet = LocalChangeLatency(bed, "PreferClose");

  proxy.SetDelay(1500ms);
  const double slow_local = LocalChangeLatency(bed, "PreferRegion");
  const auto scaled = SteadyClock::now();
  REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 3));
  REQUIRE_OK(bed.WaitForReadyReplicas("cluster2", "httpbin", "in-ambient", 3, 120s));
  const auto ready = SteadyClock::now();
  CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(3), kGuideEntry, 120s));
  const double remote_seen = Seconds(SteadyClock::now() - ready);
  (void)scaled;
  const double slow_local_2 = LocalChangeLatency(bed, "PreferNetwork");
  CHECK(controller.MetricOr0("globalsvc_writes_total", {{"kind", "delete"}}) == deletes_before);
  Figure("slow remote (1.5 s per chunk): local change visible, quiet", quiet);
  Figure("slow remote (1.5 s per chunk): local change visible", std::max(slow_local, slow_local_2));
  Figure("slow remote (1.5 s per chunk): remote scale visible after its pods are ready",
         remote_seen);
  CHECK(slow_local >= 0);
  CHECK(slow_local_2 >= 0);
  CHECK(std::max(slow_local, slow_local_2) < 20);
  proxy.SetDelay(0ms);
  REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 2));
  CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2), kGuideEntry, 120s));
  CleanUp(bed, controller);
}

TEST_CASE("A black-holed remote is noticed, keeps its endpoints, and is read again once healed",
          "[controller][faults][testbed]") {
  TestBed& bed = SharedBed();
  Prepare(bed);
  TcpProxy proxy(std::stoi(bed.ClusterValue("cluster2", "APISERVER_PORT")));
  auto started = StartController("remote-partition", "globalsvc-faults-partition");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(ApplySecret(bed, "faults-remote",
                         KubeconfigThrough(ReadFile(bed.Kubeconfig("cluster2")), proxy.port())));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
  // A start may delete what an earlier controller left (a local pod replaced
  // since gets a new WorkloadEntry name); only the partition must not delete.
  const double deletes_before =
      controller.MetricOr0("globalsvc_writes_total", {{"kind", "delete"}});

  // A partition: nothing is closed, nothing answers. The open watches hear
  // nothing more, not even the bookmarks the API server sends every minute.
  proxy.Stall();
  const auto stalled = SteadyClock::now();
  CHECK_OK(WaitForMetric(
      controller, "cluster2 stale",
      [](const ControllerProcess& c) {
        return c.Metric("globalsvc_cluster_stale", {{"cluster", "cluster2"}}) == 1.0;
      },
      200s));
  const double noticed = Seconds(SteadyClock::now() - stalled);
  CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2), kGuideEntry, 5s));
  CHECK(LocalChangeLatency(bed, "PreferRegion") >= 0);

  // Healed; the silenced connections stay silent, as dead ones do.
  proxy.Heal();
  const auto healed = SteadyClock::now();
  REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 3));
  CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(3), kGuideEntry, 200s));
  const double recovered = Seconds(SteadyClock::now() - healed);
  CHECK_OK(WaitForMetric(controller, "cluster2 connected", [](const ControllerProcess& c) {
    return c.Metric("globalsvc_cluster_connected", {{"cluster", "cluster2"}}) == 1.0;
  }));
  Figure("partitioned remote: noticed (stale) after", noticed);
  Figure("partitioned remote: a remote scale visible after healing", recovered);
  CHECK(noticed < 150);
  CHECK(recovered < 150);
  CHECK(controller.MetricOr0("globalsvc_writes_total", {{"kind", "delete"}}) == deletes_before);
  REQUIRE_OK(bed.Scale("cluster2", "httpbin", "in-ambient", 2));
  CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2), kGuideEntry, 120s));
  CleanUp(bed, controller);
}

}  // namespace
}  // namespace globalsvc::controller
