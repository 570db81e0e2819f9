// Controller benchmarks on the real test bed (scripts/testbed, two clusters):
// the controller runs as a child process for cluster1 with cluster2 connected
// through a remote Secret, exactly as in production; this program creates the
// load, watches the results and reads the controller's /metrics and /proc.
//
//   bench_controller --scenario convergence [--services 1000] [--samples 1000]
//   bench_controller --scenario sync        [--services 1000] [--endpoints 10]
//   bench_controller --scenario memory      [--services 1000] [--remote-services 300]
//                                           [--remote-endpoints 14]
//                                           [--remote-scope global|cluster|compare]
//                    (RSS at N services; RSS added by one remote cluster whose
//                    services are global, or cluster-scoped, or both in turn
//                    and their ratio)
//   bench_controller --scenario economy     (writes on restart / per change; idle CPU)
//   common: --clusters C (2 or more; cluster2..C are remotes of cluster1)
//           --endpoints E or E1,E2,... (endpoints per service in each cluster)
//           --testbed DIR (default $GLOBALSVC_TESTBED_DIR or .testbed)
//           --globalsvc PATH (the binary) --markdown FILE (append a table)
//           --object-shape inline|workload-entries (what the controller writes;
//           results are read from that shape's objects)
//           --istiod true (convergence, workload-entries shape, a test bed
//           with istiod: each change also ends when cluster1's istiod shows it
//           in its ambient view, /debug/ambientz, and istiod's share is given
//           apart; keep --services small, every poll reads the whole view)
//           --reuse-world true (keep the objects of the last run with the same
//           sizes instead of deleting and creating them again)
//           --wrap "CMD ARGS" (run the controller under a profiler, e.g.
//           "valgrind --tool=callgrind"; its RSS figures are then meaningless)
//
// Services are selector-less with hand-made EndpointSlices, so 10,000 services
// need no pods. Everything lives in namespace "bench" and is removed first.
// Every figure is printed with the machine's load average at that moment.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lib/kube/kube_client.h"
#include "test/bench/support/process.h"
#include "test/bench/support/report.h"
#include "test/bench/support/watchers.h"
#include "test/bench/support/world.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using globalsvc::kube::KubeClient;
using namespace globalsvc::bench;  // NOLINT(google-build-using-namespace): the bench's own helpers
namespace fs = std::filesystem;
namespace resources = globalsvc::kube::resources;

struct Args {
  std::string scenario = "convergence";
  int services = 1000;
  std::vector<int> endpoints = {10};  // per cluster; the last value repeats
  int clusters = 2;
  int samples = 1000;
  int remote_services = 300;
  int remote_endpoints = 14;
  std::string remote_scope = "global";
  std::string object_shape = "inline";
  fs::path testbed;
  std::string globalsvc;
  std::string markdown;
  std::string wrap;
  bool reuse_world = false;
  bool istiod = false;  // also wait for cluster1's istiod to show each change

  // Endpoints per service in cluster c (1-based).
  [[nodiscard]] int EndpointsIn(int c) const {
    return endpoints[std::min(static_cast<std::size_t>(c - 1), endpoints.size() - 1)];
  }
  // What every ServiceEntry holds when all clusters are read: the sum of each
  // cluster's endpoints (pods one by one, or a gateway endpoint weighted by them).
  [[nodiscard]] int TotalWeight() const {
    int total = 0;
    for (int c = 1; c <= clusters; ++c)
      total += EndpointsIn(c);
    return total;
  }
  [[nodiscard]] ControllerOptions Controller() const {
    return {testbed, globalsvc, object_shape, wrap};
  }
  [[nodiscard]] std::string Shape() const {
    std::string text = std::to_string(services) + " services x ";
    bool same = true;
    for (int c = 2; c <= clusters; ++c)
      same = same && EndpointsIn(c) == EndpointsIn(1);
    if (same)
      return text + std::to_string(EndpointsIn(1)) + " endpoints x " + std::to_string(clusters) +
             " clusters";
    text += "(";
    for (int c = 1; c <= clusters; ++c)
      text += (c > 1 ? "+" : "") + std::to_string(EndpointsIn(c));
    return text + ") endpoints over " + std::to_string(clusters) + " clusters (" +
           std::to_string(static_cast<long>(services) * TotalWeight()) + " endpoints)";
  }
};

// Shaped like the controller's ServiceEntries (labels, annotation, endpoints
// with network, locality, ports and a cluster label), so the API server does
// the same work per apply.
nlohmann::json FloorEntry(int i, int endpoints) {
  const std::string name = "svc-" + std::to_string(i);
  nlohmann::json entry = {
      {"apiVersion", "networking.istio.io/v1"},
      {"kind", "ServiceEntry"},
      {"metadata",
       {{"name", "floor.bench." + name},
        {"namespace", "istio-system"},
        {"labels",
         {{"app.kubernetes.io/managed-by", "bench"},
          {"solo.io/parent-service", name},
          {"solo.io/parent-service-namespace", "bench"},
          {"solo.io/service-scope", "global"}}},
        {"annotations",
         {{"networking.istio.io/traffic-distribution", "PreferClose"},
          {"globalsvc.solo.io/requested-traffic-distribution", "PreferNetwork"}}}}},
      {"spec",
       {{"hosts", {name + ".floor.mesh.internal"}},
        {"resolution", "STATIC"},
        {"location", "MESH_INTERNAL"},
        {"ports", {{{"name", "http"}, {"number", 80}, {"protocol", "HTTP"}, {"targetPort", 8080}}}},
        {"endpoints", nlohmann::json::array()}}}};
  for (int e = 0; e < endpoints; ++e) {
    entry["spec"]["endpoints"].push_back({{"address", Ip(1, i * 64 + e)},
                                          {"network", "network1"},
                                          {"locality", "region1/zone1"},
                                          {"labels", {{"topology.istio.io/cluster", "cluster1"}}},
                                          {"ports", {{"http", 8080}}}});
  }
  return entry;
}

// One API-server hop with no controller in it: a server-side apply of
// `make(i)` until a watcher of the same resource sees that version. Sample i
// is recognised by the resourceVersion the apply returned.
std::vector<double> Hop(KubeClient& client, const globalsvc::kube::ResourceType& type,
                        const std::string& ns, int samples,
                        const std::function<nlohmann::json(int)>& make) {
  std::mutex mutex;
  std::condition_variable seen_cv;
  std::map<std::string, Clock::time_point> seen;  // resourceVersion -> when
  std::atomic<bool> watching{false};
  std::jthread watcher([&](std::stop_token stop) {
    globalsvc::kube::WatchOptions options;
    auto list = client.List(type, ns);
    options.resource_version = list.ok() ? list->resource_version : "";
    (void)client.Watch(
        type, ns, options,
        [&](globalsvc::kube::WatchEvent&& event) {
          watching = true;
          std::lock_guard lock(mutex);
          seen[event.object["metadata"].value("resourceVersion", "")] = Clock::now();
          seen_cv.notify_all();
          return true;
        },
        stop);
  });
  std::vector<double> hops;
  globalsvc::kube::ApplyOptions apply;
  apply.field_manager = "bench";
  apply.force = true;
  for (int i = -1; i < samples; ++i) {  // sample -1 opens the watch
    const auto start = Clock::now();
    auto written = client.Apply(type, ns, make(i), apply);
    // A connection the server closed while idle fails once; try again.
    for (int attempt = 0; !written.ok() && written.error().retryable() && attempt < 5; ++attempt) {
      std::this_thread::sleep_for(200ms);
      written = client.Apply(type, ns, make(i), apply);
    }
    if (!written.ok()) Die("floor apply: " + written.error().message);
    const std::string version = (*written)["metadata"].value("resourceVersion", "");
    std::unique_lock lock(mutex);
    if (seen_cv.wait_for(lock, 10s, [&] { return seen.count(version) > 0; }) && i >= 0) {
      hops.push_back(std::chrono::duration<double, std::milli>(seen[version] - start).count());
    }
  }
  return hops;
}

// ---------------------------------------------------------------- scenarios

using Clients = std::vector<std::unique_ptr<KubeClient>>;  // [0] is cluster1

Clients ConnectAll(const Args& args) {
  Clients clients;
  for (int c = 1; c <= args.clusters; ++c)
    clients.push_back(Connect(args.testbed, ClusterName(c)));
  InstallCrds(*clients[0]);
  return clients;
}

// Deletes every remote Secret in cluster1 except those of clusters 2..keep.
void DisconnectRemotesBeyond(KubeClient& local, int keep) {
  globalsvc::kube::ListOptions options;
  options.label_selector = "globalsvc.solo.io/remote-cluster=true";
  auto secrets = Must(local.List(resources::Secrets(), "istio-system", options), "list secrets");
  for (const auto& item : secrets.items) {
    const std::string name = item["metadata"]["name"];
    bool kept = false;
    for (int c = 2; c <= keep; ++c)
      kept = kept || name == "globalsvc-remote-" + ClusterName(c);
    if (!kept) DeleteObject(local, resources::Secrets(), "istio-system", name);
  }
}

// No bench objects or ServiceEntries left from an earlier run, no remote
// cluster connected.
void ClearWorld(const Args& args, Clients& clients) {
  DisconnectRemotesBeyond(*clients[0], 1);
  DeleteBenchEntries(*clients[0]);
  std::vector<std::jthread> deleting;
  for (auto& client : clients)
    deleting.emplace_back([&client] { DeleteNamespaceAndWait(*client); });
  (void)args;
}

// A clean slate: N global services with E endpoints in each cluster, clusters
// 2..C connected to cluster1 by their remote Secrets. Returns the seconds spent
// creating objects (the clusters are filled at the same time).
double ResetWorld(const Args& args, Clients& clients) {
  if (args.reuse_world) {
    // Repeated runs with the same sizes: keep the objects, start without
    // ServiceEntries. A world of other sizes (or one a scenario changed)
    // would never reach the expected totals.
    for (int c = 1; c <= args.clusters; ++c) {
      const std::string mismatch = WorldMismatch(*clients[static_cast<std::size_t>(c - 1)], c,
                                                 args.services, args.EndpointsIn(c));
      if (!mismatch.empty()) Die("--reuse-world: " + mismatch + "; run once without it");
    }
    DeleteBenchEntries(*clients[0]);
    for (int c = 2; c <= args.clusters; ++c)
      ConnectRemote(*clients[0], args.testbed, ClusterName(c));
    return 0;
  }
  ClearWorld(args, clients);
  const auto start = Clock::now();
  {
    std::vector<std::jthread> filling;
    for (int c = 1; c <= args.clusters; ++c) {
      filling.emplace_back([&, c] {
        Populate(*clients[static_cast<std::size_t>(c - 1)], c, args.services, args.EndpointsIn(c),
                 ScopeLabels("global"));
      });
    }
  }
  for (int c = 2; c <= args.clusters; ++c)
    ConnectRemote(*clients[0], args.testbed, ClusterName(c));
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Convergence(const Args& args) {
  auto clients = ConnectAll(args);
  KubeClient& c1 = *clients[0];
  KubeClient& c2 = *clients[1];
  ResetWorld(args, clients);
  EntryWatcher watcher(c1, args.object_shape);
  ControllerProcess controller;
  controller.Start(args.Controller(), "cluster1", FreePort());
  WaitForController(controller, watcher, args.services, args.TotalWeight());
  std::optional<AmbientWatcher> ambient;
  if (args.istiod) ambient.emplace(IstiodHttpPort(args.testbed, "cluster1"));

  const std::string node = FirstNode(c2);
  const std::string load_before = LoadAverage();
  const int others = args.TotalWeight() - args.EndpointsIn(2);
  std::vector<double> latency;
  std::vector<double> istiod_latency;  // to istiod's view
  std::vector<double> istiod_share;    // from our object to istiod's view
  for (int s = 0; s < args.samples; ++s) {
    const int i = s % args.services;
    const int weight = args.EndpointsIn(2) + 1 + (s / args.services) % 2;  // changes every visit
    nlohmann::json slice = SliceObject(2, i, weight, node);
    const auto start = Clock::now();
    ApplyObject(c2, resources::EndpointSlices(), slice);
    auto seen = watcher.WaitFor("autogen.bench.svc-" + std::to_string(i), others + weight, 30s);
    if (!seen) {
      controller.CheckAlive();
      Die("change " + std::to_string(s) + " not seen within 30 s");
    }
    latency.push_back(std::chrono::duration<double, std::milli>(*seen - start).count());
    if (ambient) {
      auto shown = ambient->WaitFor("svc-" + std::to_string(i) + ".bench.mesh.internal",
                                    others + weight, 30s);
      if (!shown) Die("change " + std::to_string(s) + " not in istiod's view within 30 s");
      istiod_latency.push_back(std::chrono::duration<double, std::milli>(*shown - start).count());
      istiod_share.push_back(
          std::max(0.0, std::chrono::duration<double, std::milli>(*shown - *seen).count()));
    }
  }
  const std::string load_after = LoadAverage();
  // The two hops every change must make without any controller: the slice
  // write in cluster2 reaching a watcher, and a ServiceEntry apply in cluster1
  // reaching a watcher.
  const int floor_samples = std::min(args.samples, 300);
  const auto slice_hop = Hop(c2, resources::EndpointSlices(), "bench", floor_samples, [&](int s) {
    return SliceObject(2, args.services - 1, args.EndpointsIn(2) + 1 + (s & 1), node);
  });
  const auto entry_hop =
      Hop(c1, resources::ServiceEntries(), "istio-system", floor_samples,
          [&](int s) { return FloorEntry(0, args.TotalWeight() + 1 + (s & 1)); });
  const double writes = controller.Metric("globalsvc_writes_total{kind=\"apply\"}");
  // Mean time inside Reconcile (plan, hash, and the apply's round trip).
  const double reconcile_ms =
      1000 * controller.Metric("globalsvc_reconcile_duration_seconds_sum") /
      std::max(1.0, controller.Metric("globalsvc_reconcile_duration_seconds_count"));
  controller.Stop();
  DeleteBenchEntries(c1);

  const double p50 = Percentile(latency, 0.5), p99 = Percentile(latency, 0.99);
  const double s50 = Percentile(slice_hop, 0.5), e50 = Percentile(entry_hop, 0.5);
  const double f50 = s50 + e50;
  const double f99 = Percentile(slice_hop, 0.99) + Percentile(entry_hop, 0.99);
  // What the controller adds is the end-to-end time less the two API-server
  // hops it cannot avoid.
  const double share = p50 > 0 ? std::max(0.0, p50 - f50) / p50 : 0;
  char text[1024];
  std::snprintf(text, sizeof(text),
                "| %s | convergence | %s, %zu remote EndpointSlice changes | "
                "p50 %.1f ms, p99 %.1f ms | API floor, slice hop + ServiceEntry hop: p50 %.1f + "
                "%.1f ms, p99 sum %.1f ms | controller share of p50: %.0f %% | mean reconcile "
                "(plan + apply round trip) %.1f ms, applies %.0f; %s to %s |\n",
                Today().c_str(), args.Shape().c_str(), latency.size(), p50, p99, s50, e50, f99,
                share * 100, reconcile_ms, writes, load_before.c_str(), load_after.c_str());
  AppendMarkdown(args.markdown, text);
  if (!istiod_latency.empty()) {
    // Our object is seen by a watch of ours; istiod's view by polling it, so
    // istiod's share includes up to one poll (the time one /debug/ambientz
    // read takes).
    const double i50 = Percentile(istiod_latency, 0.5), i99 = Percentile(istiod_latency, 0.99);
    const double own50 = Percentile(istiod_share, 0.5), own99 = Percentile(istiod_share, 0.99);
    std::snprintf(text, sizeof(text),
                  "| %s | convergence to istiod's view | %s, %zu remote EndpointSlice changes | "
                  "p50 %.1f ms, p99 %.1f ms | globalsvc's part (to its object): p50 %.1f ms | "
                  "istiod's part (object to ambient view, polled): p50 %.1f ms, p99 %.1f ms | "
                  "%s to %s |\n",
                  Today().c_str(), args.Shape().c_str(), istiod_latency.size(), i50, i99, p50,
                  own50, own99, load_before.c_str(), LoadAverage().c_str());
    AppendMarkdown(args.markdown, text);
  }
}

double Floor(KubeClient& client, int services, int endpoints) {
  // The same number of server-side applies of same-sized ServiceEntries, two at
  // a time like the controller's two workers.
  const auto start = Clock::now();
  Parallel(services, 2, [&](int i) {
    nlohmann::json entry = FloorEntry(i, endpoints);
    globalsvc::kube::ApplyOptions apply;
    apply.field_manager = "bench";
    apply.force = true;
    // A busy API server may time out now and then; the controller retries too.
    for (int attempt = 0;; ++attempt) {
      auto result = client.Apply(resources::ServiceEntries(), "istio-system", entry, apply);
      if (result.ok()) break;
      if (!result.error().retryable() || attempt == 10) {
        Die("floor apply failed: " + result.error().message);
      }
      std::this_thread::sleep_for(200ms);
    }
  });
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Sync(const Args& args) {
  auto clients = ConnectAll(args);
  KubeClient& c1 = *clients[0];
  const double populate = ResetWorld(args, clients);
  EntryWatcher watcher(c1, args.object_shape);
  ControllerProcess controller;
  const std::string load_before = LoadAverage();
  const auto start = Clock::now();
  controller.Start(args.Controller(), "cluster1", FreePort());
  WaitForController(controller, watcher, args.services, args.TotalWeight());
  const double sync = std::chrono::duration<double>(Clock::now() - start).count();
  const std::string load_sync = LoadAverage();
  const long rss = controller.RssKiB();
  const double cpu = controller.CpuSeconds();
  const double writes = controller.Metric("globalsvc_writes_total{kind=\"apply\"}");
  controller.Stop();
  std::fprintf(stderr,
               "bench_controller: synced after %.1f s (%.0f applies, CPU %.1f s, RSS %.1f MiB, "
               "%s); now the minimal client\n",
               sync, writes, cpu, static_cast<double>(rss) / 1024.0, load_sync.c_str());
  const double floor = Floor(c1, args.services, args.TotalWeight());
  const std::string load_floor = LoadAverage();
  DeleteBenchEntries(c1);
  char text[1024];
  std::snprintf(
      text, sizeof(text),
      "| %s | initial sync | %s (created in %.0f s) | all ServiceEntries correct after %.1f s "
      "(%.0f applies, controller CPU %.1f s; %s to %s) | minimal client, same applies: %.1f s "
      "(%s) | ratio %.2f | controller RSS %.1f MiB |\n",
      Today().c_str(), args.Shape().c_str(), populate, sync, writes, cpu, load_before.c_str(),
      load_sync.c_str(), floor, load_floor.c_str(), sync / floor,
      static_cast<double>(rss) / 1024.0);
  AppendMarkdown(args.markdown, text);
}

void Memory(const Args& args) {
  auto clients = ConnectAll(args);
  KubeClient& c1 = *clients[0];
  KubeClient& c2 = *clients[1];
  char text[1024];
  // RSS added by one remote cluster (cluster2) of R services with E endpoints
  // each (skipped with --remote-services 0, e.g. to reuse a filled world).
  if (args.remote_services > 0) {
    std::vector<std::string> scopes = {args.remote_scope};
    if (args.remote_scope == "compare") scopes = {"global", "cluster"};
    std::map<std::string, long> added_kib;
    for (const std::string& scope : scopes) {
      ClearWorld(args, clients);
      Populate(c2, 2, args.remote_services, args.remote_endpoints, ScopeLabels(scope));
      EntryWatcher watcher(c1, args.object_shape);
      ControllerProcess controller;
      controller.Start(args.Controller(), "cluster1", FreePort());
      WaitReadyAndSettle(controller);
      const long without = controller.RssKiB();
      ConnectRemote(c1, args.testbed, "cluster2");
      if (scope == "global") {
        WaitForController(controller, watcher, args.remote_services, args.remote_endpoints);
      } else {
        WaitForMetric(controller, "globalsvc_cluster_synced{cluster=\"cluster2\"}", 1);
      }
      std::this_thread::sleep_for(2s);
      const long with = controller.RssKiB();
      controller.Stop();
      DisconnectRemote(c1, "cluster2");
      DeleteBenchEntries(c1);
      added_kib[scope] = with - without;
      std::snprintf(text, sizeof(text),
                    "| %s | memory per remote cluster | remote with %d %s services / %d endpoints "
                    "| RSS %.1f MiB without it, %.1f MiB with it | goal <= 5 MB | +%.1f MiB |\n",
                    Today().c_str(), args.remote_services, scope.c_str(),
                    args.remote_services * args.remote_endpoints,
                    static_cast<double>(without) / 1024.0, static_cast<double>(with) / 1024.0,
                    static_cast<double>(with - without) / 1024.0);
      AppendMarkdown(args.markdown, text);
    }
    if (added_kib.size() == 2) {
      std::snprintf(
          text, sizeof(text),
          "| %s | memory per remote cluster, not global vs global | %d services / %d "
          "endpoints | +%.1f MiB vs +%.1f MiB | only the keys kept | ratio %.2f |\n",
          Today().c_str(), args.remote_services, args.remote_services * args.remote_endpoints,
          static_cast<double>(added_kib["cluster"]) / 1024.0,
          static_cast<double>(added_kib["global"]) / 1024.0,
          added_kib["global"] > 0
              ? static_cast<double>(added_kib["cluster"]) / static_cast<double>(added_kib["global"])
              : 0.0);
      AppendMarkdown(args.markdown, text);
    }
  }
  // RSS at N services in every cluster.
  if (args.services > 0) {
    ResetWorld(args, clients);
    EntryWatcher watcher(c1, args.object_shape);
    ControllerProcess controller;
    controller.Start(args.Controller(), "cluster1", FreePort());
    WaitForController(controller, watcher, args.services, args.TotalWeight());
    const long peak_probe = controller.RssKiB();
    std::this_thread::sleep_for(5s);
    const long rss = controller.RssKiB();
    controller.Stop();
    std::snprintf(text, sizeof(text),
                  "| %s | memory | %s | RSS %.1f MiB (%.1f MiB when the last entry was "
                  "written) | goal <= 150 MB at 10,000 services / 100,000 endpoints / 3 "
                  "clusters | — |\n",
                  Today().c_str(), args.Shape().c_str(), static_cast<double>(rss) / 1024.0,
                  static_cast<double>(peak_probe) / 1024.0);
    AppendMarkdown(args.markdown, text);
    DeleteBenchEntries(c1);
  }
}

void Economy(const Args& args) {
  auto clients = ConnectAll(args);
  KubeClient& c1 = *clients[0];
  KubeClient& c2 = *clients[1];
  ResetWorld(args, clients);
  EntryWatcher watcher(c1, args.object_shape);
  // GlobalService status writes are rate-limited (10/s): the first controller
  // finishes them too, so the restart finds everything written.
  const auto status_drained = [&](ControllerProcess& process) {
    const auto limit = Clock::now() + 300s + std::chrono::seconds(args.services / 4);
    while (process.Metric("globalsvc_status_pending") > 0) {
      process.CheckAlive();
      if (Clock::now() > limit) Die("GlobalService statuses still pending after the time limit");
      std::this_thread::sleep_for(200ms);
    }
  };
  {
    ControllerProcess first;
    first.Start(args.Controller(), "cluster1", FreePort());
    WaitForController(first, watcher, args.services, args.TotalWeight());
    status_drained(first);
  }
  // Restart with nothing changed: every key is reconciled, nothing written
  // (ServiceEntries and GlobalService status alike).
  ControllerProcess controller;
  controller.Start(args.Controller(), "cluster1", FreePort());
  const auto deadline = Clock::now() + 300s + std::chrono::seconds(args.services / 10);
  while (Clock::now() < deadline &&
         controller.Metric("globalsvc_reconcile_total{result=\"unchanged\"}") < args.services) {
    controller.CheckAlive();
    std::this_thread::sleep_for(50ms);
  }
  status_drained(controller);
  // RemoteCluster status is published every 2 s once the first pass is done:
  // two rounds show any write.
  std::this_thread::sleep_for(5s);
  const auto writes = [&] {
    return controller.Metric("globalsvc_writes_total{kind=\"apply\"}") +
           controller.Metric("globalsvc_writes_total{kind=\"delete\"}") +
           controller.Metric("globalsvc_writes_total{kind=\"status\"}") +
           controller.Metric("globalsvc_writes_total{kind=\"status-delete\"}") +
           controller.Metric("globalsvc_writes_total{kind=\"cluster-status\"}") +
           controller.Metric("globalsvc_writes_total{kind=\"cluster-status-delete\"}");
  };
  const double restart_writes = writes();
  const double unchanged = controller.Metric("globalsvc_reconcile_total{result=\"unchanged\"}");
  // Idle: nothing changes for 10 s.
  const double cpu_before = controller.CpuSeconds();
  std::this_thread::sleep_for(10s);
  const double idle_cpu = (controller.CpuSeconds() - cpu_before) / 10.0;
  // One endpoint change in cluster2: exactly one write in cluster1.
  const std::string node = FirstNode(c2);
  const double before = controller.Metric("globalsvc_writes_total{kind=\"apply\"}");
  const double status_before = controller.Metric("globalsvc_writes_total{kind=\"status\"}");
  ApplyObject(c2, resources::EndpointSlices(), SliceObject(2, 0, args.EndpointsIn(2) + 1, node));
  if (!watcher.WaitFor("autogen.bench.svc-0", args.TotalWeight() + 1, 30s)) {
    Die("change not seen");
  }
  std::this_thread::sleep_for(2s);  // any extra write would show by now
  status_drained(controller);
  const double per_change = controller.Metric("globalsvc_writes_total{kind=\"apply\"}") - before;
  // The GlobalService status counts endpoints per cluster: one status write.
  const double per_change_status =
      controller.Metric("globalsvc_writes_total{kind=\"status\"}") - status_before;
  controller.Stop();
  DeleteBenchEntries(c1);
  char text[768];
  std::snprintf(text, sizeof(text),
                "| %s | write economy | %s | restart with nothing changed: %.0f writes, "
                "ServiceEntries, GlobalService and RemoteCluster status (%.0f keys reconciled "
                "unchanged) | one "
                "endpoint change: %.0f ServiceEntry write(s), %.0f status write(s) | idle CPU "
                "%.2f %% of a core (%s) |\n",
                Today().c_str(), args.Shape().c_str(), restart_writes, unchanged, per_change,
                per_change_status, idle_cpu * 100, LoadAverage().c_str());
  AppendMarkdown(args.markdown, text);
}

std::vector<int> ParseList(const std::string& text) {
  std::vector<int> values;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    values.push_back(std::stoi(item));
  if (values.empty()) Die("empty list: " + text);
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Args args;
  const char* env = std::getenv("GLOBALSVC_TESTBED_DIR");
  args.testbed = env ? fs::path(env) : fs::path(".testbed");
  args.globalsvc = (fs::path(argv[0]).parent_path() / "../../cli/globalsvc").string();
  const auto number = [](int& field) {
    return [&field](const std::string& value) { field = std::stoi(value); };
  };
  const auto text = [](std::string& field) {
    return [&field](const std::string& value) { field = value; };
  };
  const auto boolean = [](bool& field) {
    return [&field](const std::string& value) { field = value == "true"; };
  };
  ParseFlags(argc, argv,
             {{"--scenario", text(args.scenario)},
              {"--services", number(args.services)},
              {"--endpoints", [&](const std::string& v) { args.endpoints = ParseList(v); }},
              {"--clusters", number(args.clusters)},
              {"--samples", number(args.samples)},
              {"--remote-services", number(args.remote_services)},
              {"--remote-endpoints", number(args.remote_endpoints)},
              {"--remote-scope", text(args.remote_scope)},
              {"--testbed", [&](const std::string& v) { args.testbed = v; }},
              {"--globalsvc", text(args.globalsvc)},
              {"--markdown", text(args.markdown)},
              {"--wrap", text(args.wrap)},
              {"--object-shape", text(args.object_shape)},
              {"--reuse-world", boolean(args.reuse_world)},
              {"--istiod", boolean(args.istiod)}});
  if (args.clusters < 2) Die("--clusters must be 2 or more");
  if (args.istiod && (args.scenario != "convergence" || args.object_shape != "workload-entries")) {
    Die("--istiod true measures the convergence scenario of --object-shape workload-entries");
  }
  if (args.services < 1 && args.scenario != "memory") Die("--services must be positive");
  for (int c = 1; c <= args.clusters; ++c) {
    if (!fs::exists(args.testbed / ClusterName(c) / "kubeconfig")) {
      Die("no " + ClusterName(c) + " in the test bed " + args.testbed.string() +
          " (scripts/testbed up --clusters " + std::to_string(args.clusters) + ")");
    }
  }
  if (args.scenario == "convergence")
    Convergence(args);
  else if (args.scenario == "sync")
    Sync(args);
  else if (args.scenario == "memory")
    Memory(args);
  else if (args.scenario == "economy")
    Economy(args);
  else
    Die("unknown scenario " + args.scenario);
  return 0;
}
