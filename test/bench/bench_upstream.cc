// globalsvc side by side with upstream Istio's own ambient multicluster, on
// one test bed (scripts/testbed up --clusters 2 --istio), in one run, from
// one generated world: each remote (cluster2..C) holds N selector-less
// services with E endpoints each, labelled global for both
// (solo.io/service-scope=global and istio.io/global=true); changes are made
// in cluster2.
//
//   upstream: cluster1's istiod restarted in multi-network mode
//             (AMBIENT_ENABLE_MULTI_NETWORK=true) reads each remote through
//             an istio/multiCluster Secret; each remote's east-west Gateway
//             (class istio-east-west) tells it where that network is reached.
//   globalsvc: cluster1's istiod in its default mode, globalsvc in cluster1
//             reading each remote through its remote Secret and writing
//             WorkloadEntries for istiod to read.
//
// For each side: memory added by the remote cluster (istiod's RSS delta; for
// globalsvc also its own), cold start (remote connected to every host
// complete in cluster1 istiod's ambient view), convergence of remote
// EndpointSlice changes to that view, CPU seconds, watches and LISTs
// against one remote's API server (cluster2's), and the Workloads ztunnel
// would receive.
// Every figure is printed with the machine's load and as a ratio between the
// two sides; no figure fails anything.
//
//   bench_upstream [--services 300] [--endpoints 14] [--samples 500] [--clusters 2]
//                  [--testbed DIR] [--globalsvc PATH] [--markdown FILE]
//                  [--profiles DIR] (istiod's heap profile for each side, and
//                  its CPU profile over the first 30 s of each cold start)
//                  [--sides both|upstream|globalsvc] (one side alone, for
//                  scaling runs; the report then has only that side)
//                  [--namespaces K] (the services spread over bench-0..K-1)
//                  [--local-namespaces true] (cluster1 has those namespaces
//                  too, so globalsvc's objects go there, not to istio-system)
//                  [--reuse-world true] (the remotes hold the same world from
//                  an earlier run: keep it instead of creating it again)

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lib/kube/kube_client.h"
#include "lib/kube/kubeconfig.h"
#include "lib/kube/rest_transport.h"
#include "test/bench/support/process.h"
#include "test/bench/support/report.h"
#include "test/bench/support/watchers.h"
#include "test/bench/support/world.h"

namespace {

using namespace std::chrono_literals;
using namespace globalsvc::bench;  // NOLINT(google-build-using-namespace): the bench's own helpers
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
namespace kube = globalsvc::kube;
namespace resources = kube::resources;

std::string IstiodRemoteSecret(const std::string& remote) {
  return "istio-remote-secret-" + remote;
}

struct Args {
  int services = 300;
  int endpoints = 14;
  int samples = 500;
  int clusters = 2;  // cluster2..clusters are remotes of cluster1
  fs::path testbed;
  std::string globalsvc;
  std::string markdown;
  fs::path profiles;  // where istiod's profiles go, if anywhere
  std::string sides = "both";
  int namespaces = 1;             // the services spread over this many namespaces
  bool local_namespaces = false;  // cluster1 has them too
  bool reuse_world = false;       // the remotes already hold this world (an earlier run's)

  // Endpoints of one service over every remote.
  [[nodiscard]] int RemoteEndpoints() const { return (clusters - 1) * endpoints; }
};

// CPU seconds of one process in a phase, less its idle cost measured just
// before (Calibrate). The idle cost accrues per unit: per second for
// globalsvc, per read of istiod's view for istiod, since the bench's polling
// is most of an idle istiod's CPU and reads come slower when istiod is busy.
class CpuMeter {
 public:
  CpuMeter(pid_t pid, std::function<double()> units) : pid_(pid), units_(std::move(units)) {}

  void Begin() {
    start_cpu_ = ProcessCpuSeconds(pid_);
    start_units_ = units_();
  }
  // Ends an idle phase: what it cost per unit is the baseline from now on.
  void Calibrate() { idle_per_unit_ = Raw() / std::max(1e-9, units_() - start_units_); }
  [[nodiscard]] double End() const {
    return std::max(0.0, Raw() - idle_per_unit_ * (units_() - start_units_));
  }

 private:
  [[nodiscard]] double Raw() const { return ProcessCpuSeconds(pid_) - start_cpu_; }

  pid_t pid_;
  std::function<double()> units_;
  double start_cpu_ = 0, start_units_ = 0, idle_per_unit_ = 0;
};

// What one side measured. globalsvc's own figures stay 0 for upstream.
struct Side {
  long istiod_added_kib = 0;
  long istiod_heap_added_kib = 0;  // istiod's live heap, after a GC
  long globalsvc_added_kib = 0;
  double cold_start_s = 0;
  double istiod_quiet_s = 0;  // from connecting to istiod's last push of the cold start
  double istiod_cold_cpu_s = 0, globalsvc_cold_cpu_s = 0;
  double istiod_change_cpu_s = 0, globalsvc_change_cpu_s = 0;  // all changes
  std::vector<double> convergence_ms;
  std::vector<double> globalsvc_share_ms;  // to globalsvc's object
  double writes_per_change = 0;
  double remote_watches = 0;  // opened on cluster2 by the remote reader
  double remote_lists = 0;    // LIST requests to cluster2 during the cold start
  AmbientViewSize view;

  [[nodiscard]] long AddedKiB() const { return istiod_added_kib + globalsvc_added_kib; }
  [[nodiscard]] double ColdCpu() const { return istiod_cold_cpu_s + globalsvc_cold_cpu_s; }
  [[nodiscard]] double ChangeCpu() const { return istiod_change_cpu_s + globalsvc_change_cpu_s; }
};

// ---------------------------------------------------------------- the test bed

int RunTestbed(const Args& args, const std::string& command) {
  const std::string line = "GLOBALSVC_TESTBED_DIR='" + args.testbed.string() + "' '" +
                           GLOBALSVC_SOURCE_DIR + "/scripts/testbed' " + command;
  return std::system(line.c_str());
}

// Restarts cluster1's istiod in the given mode and returns its pid.
pid_t RestartIstiod(const Args& args, bool multi_network) {
  (void)RunTestbed(args, "stop cluster1 istiod 2>/dev/null");  // it may be stopped already
  const std::string start =
      std::string("start cluster1 istiod") + (multi_network ? " --multi-network" : "");
  if (RunTestbed(args, start) != 0) Die("failed: scripts/testbed " + start);
  return static_cast<pid_t>(std::stol(ReadFile(args.testbed / "cluster1" / "run" / "istiod.pid")));
}

// The sum of every series of `name` in cluster2's API server /metrics: watches
// open (apiserver_longrunning_requests) or requests served
// (apiserver_request_total).
class RemoteApiMetrics {
 public:
  explicit RemoteApiMetrics(const Args& args) {
    auto config = Must(kube::LoadKubeconfig((args.testbed / "cluster2" / "kubeconfig").string()),
                       "kubeconfig of cluster2");
    transport_ = Must(kube::RestTransport::Create(config, kube::SystemClock::Instance()),
                      "transport to cluster2");
  }
  double Sum(const std::string& name, const std::string& must_contain = "") {
    auto response = transport_->Send("GET", "/metrics");
    if (!response.ok() || response->status != 200) return 0;
    return MetricSum(response->body, name, must_contain);
  }
  double Watches() { return Sum("apiserver_longrunning_requests", "verb=\"WATCH\""); }
  double Lists() { return Sum("apiserver_request_total", "verb=\"LIST\""); }

 private:
  std::unique_ptr<kube::RestTransport> transport_;
};

// cluster2's east-west gateway as upstream's multi-network mode reads it from
// a remote cluster: class istio-east-west, the network label, an HBONE
// listener that terminates TLS, and an address in status. Its controller
// (a multi-network istiod of cluster2) would publish the address; cluster2's
// istiod runs in the default mode here, so the bench writes it.
void ApplyEastWestGateway(KubeClient& remote, const Args& args, int c) {
  const std::string network = ClusterEnv(args.testbed, ClusterName(c), "NETWORK");
  if (network.empty()) Die("no NETWORK in " + ClusterName(c) + "'s cluster.env");
  const kube::ResourceType gateways{"gateway.networking.k8s.io", "v1", "gateways", true};
  const nlohmann::json gateway = {
      {"apiVersion", "gateway.networking.k8s.io/v1"},
      {"kind", "Gateway"},
      {"metadata",
       {{"name", "istio-eastwest"},
        {"namespace", "istio-system"},
        {"labels", {{"topology.istio.io/network", network}}}}},
      {"spec",
       {{"gatewayClassName", "istio-east-west"},
        {"listeners",
         {{{"name", "mesh"},
           {"port", 15008},
           {"protocol", "HBONE"},
           {"tls",
            {{"mode", "Terminate"},
             {"options", {{"gateway.istio.io/tls-terminate-mode", "ISTIO_MUTUAL"}}}}}}}}}}};
  ApplyObject(remote, gateways, gateway, "istio-system");
  nlohmann::json status = gateway;
  status["status"] = {
      {"addresses", {{{"type", "IPAddress"}, {"value", "192.0.2." + std::to_string(100 + c)}}}}};
  auto current =
      Must(Retrying([&] { return remote.Get(gateways, "istio-system", "istio-eastwest"); }),
           "east-west gateway");
  status["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"];
  Must(Retrying([&] { return remote.Update(gateways, "istio-system", status, "status"); }),
       "east-west gateway status");
}

void ConnectIstiodRemote(KubeClient& c1, const Args& args, const std::string& remote) {
  const nlohmann::json secret = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata",
       {{"name", IstiodRemoteSecret(remote)},
        {"namespace", "istio-system"},
        {"labels", {{"istio/multiCluster", "true"}}},
        {"annotations", {{"networking.istio.io/cluster", remote}}}}},
      {"stringData", {{remote, ReadFile(args.testbed / remote / "kubeconfig")}}}};
  ApplyObject(c1, resources::Secrets(), secret, "istio-system");
}

// Both sides' labels on every service, so one world serves both runs.
nlohmann::json GlobalForBoth() {
  return {{"solo.io/service-scope", "global"}, {"istio.io/global", "true"}};
}

void ResetSlices(KubeClient& c2, const Args& args, const std::string& node) {
  Parallel(args.services, 4, [&](int i) {
    ApplyObject(c2, resources::EndpointSlices(),
                SliceObject(2, i, args.endpoints, node, args.namespaces),
                BenchNamespace(i, args.namespaces));
  });
}

// Service i's host: svc-<i>.<namespace><suffix>.
std::string Host(const Args& args, int i, const std::string& suffix) {
  return "svc-" + std::to_string(i) + "." + BenchNamespace(i, args.namespaces) + suffix;
}

// ---------------------------------------------------------------- the two sides

// istiod's live heap in KiB: its pprof endpoint runs a GC first (gc=1), and
// the text form ends with runtime.MemStats ("# HeapAlloc = N").
long IstiodLiveHeapKiB(int istiod_port) {
  const std::string profile = HttpBody(HttpGet(istiod_port, "/debug/pprof/heap?gc=1&debug=1"));
  const auto at = profile.find("# HeapAlloc = ");
  if (at == std::string::npos) return 0;
  return std::strtol(profile.c_str() + at + 14, nullptr, 10) / 1024;
}

// istiod's heap profile after a GC, for `go tool pprof`: where its memory goes.
void SaveHeapProfile(int istiod_port, const fs::path& folder, const std::string& side) {
  fs::create_directories(folder);
  const fs::path file = folder / ("istiod-heap-" + side + ".pb.gz");
  std::ofstream(file, std::ios::binary) << HttpBody(HttpGet(istiod_port, "/debug/pprof/heap?gc=1"));
  std::fprintf(stderr, "bench_upstream: %s: istiod's heap profile in %s\n", side.c_str(),
               file.c_str());
}

// istiod's CPU profile over the next `seconds`, for `go tool pprof`: where a
// cold start spends istiod's time. Blocks for those seconds.
void SaveCpuProfile(int istiod_port, const fs::path& folder, const std::string& side, int seconds) {
  fs::create_directories(folder);
  const fs::path file = folder / ("istiod-cpu-cold-start-" + side + ".pb.gz");
  const std::string body =
      HttpBody(HttpGet(istiod_port, "/debug/pprof/profile?seconds=" + std::to_string(seconds)));
  std::ofstream(file, std::ios::binary) << body;
  std::fprintf(stderr, "bench_upstream: %s: istiod's CPU profile of the cold start in %s\n",
               side.c_str(), file.c_str());
}

// The number of pushes istiod has debounced so far (pilot_debounce_time_count
// on its monitoring port): it grows while istiod still works through changes,
// even after its view looks complete.
double IstiodPushes(int monitoring_port) {
  return MetricSum(HttpBody(HttpGet(monitoring_port, "/metrics")), "pilot_debounce_time_count");
}

// Waits until istiod has pushed nothing for 15 s (longer than its longest
// debounce, 10 s) and returns when it last pushed: the end of its work.
SteadyTime WaitForIstiodQuiet(const Args& args, std::chrono::seconds timeout) {
  const int port = std::stoi(ClusterEnv(args.testbed, "cluster1", "ISTIOD_MONITORING_PORT"));
  double pushes = IstiodPushes(port);
  auto last_push = Clock::now();
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() - last_push < 15s && Clock::now() < deadline) {
    std::this_thread::sleep_for(1s);  // each read of /metrics costs istiod CPU too
    if (const double now = IstiodPushes(port); now != pushes) {
      pushes = now;
      last_push = Clock::now();
    }
  }
  return last_push;
}

// What differs between the sides; Measure does the rest the same way.
struct SideSetup {
  pid_t istiod = -1;
  ControllerProcess* controller = nullptr;  // globalsvc's, or none
  std::string host_suffix;                  // of the bench hosts in istiod's view
  std::function<void(const std::string& remote)> connect;
  // When globalsvc's object for service `i` showed `weight` (globalsvc only).
  std::function<std::optional<SteadyTime>(int i, int weight)> written;
  std::function<double()> writes;  // globalsvc's writes so far (globalsvc only)
};

long RssOf(const SideSetup& setup, bool ours) {
  if (!ours) return ProcessRssKiB(setup.istiod);
  return setup.controller ? setup.controller->RssKiB() : 0;
}

// Idle window, connect, cold start, settle, then `samples` remote changes.
Side Measure(const Args& args, KubeClient& c2, RemoteApiMetrics& remote, const SideSetup& setup,
             const std::string& side_name) {
  Side side;
  const int istiod_port = IstiodHttpPort(args.testbed, "cluster1");
  AmbientWatcher ambient(istiod_port);
  std::this_thread::sleep_for(5s);  // istiod has read its own cluster
  const auto started = Clock::now();
  CpuMeter istiod_cpu(setup.istiod, [&] { return static_cast<double>(ambient.Reads()); });
  CpuMeter ours_cpu(setup.controller ? setup.controller->pid : -1, [started] {
    return std::chrono::duration<double>(Clock::now() - started).count();
  });
  long istiod_before = 0, ours_before = 0, heap_before = 0;
  {
    const auto paused = ambient.Pause();
    istiod_before = RssOf(setup, false);
    ours_before = RssOf(setup, true);
    heap_before = IstiodLiveHeapKiB(istiod_port);
  }
  const double watches_before = remote.Watches();
  // Idle, with istiod's view polled: the baseline every phase is net of.
  istiod_cpu.Begin();
  ours_cpu.Begin();
  std::this_thread::sleep_for(5s);
  istiod_cpu.Calibrate();
  ours_cpu.Calibrate();

  const double lists_before = remote.Lists();
  istiod_cpu.Begin();
  ours_cpu.Begin();
  // globalsvc writes two objects per service and remote network; a loaded
  // API server takes about 100 a second.
  const auto limit = 600s + std::chrono::seconds(args.services * (args.clusters - 1) / 25);
  const auto start = Clock::now();
  std::jthread cpu_profile;
  if (!args.profiles.empty()) {
    cpu_profile = std::jthread([&] { SaveCpuProfile(istiod_port, args.profiles, side_name, 30); });
  }
  for (int c = 2; c <= args.clusters; ++c)
    setup.connect(ClusterName(c));
  const auto complete = ambient.WaitForAll(static_cast<std::size_t>(args.services),
                                           setup.host_suffix, args.RemoteEndpoints(), limit);
  if (!complete) {
    if (setup.controller) setup.controller->CheckAlive();
    Die("cluster1 istiod's view of " + setup.host_suffix + " not complete within " +
        std::to_string(limit.count()) + " s");
  }
  side.cold_start_s = std::chrono::duration<double>(*complete - start).count();
  side.remote_lists = remote.Lists() - lists_before;
  std::fprintf(stderr, "bench_upstream: %s: view complete %.2f s after connecting (%s)\n",
               side_name.c_str(), side.cold_start_s, LoadAverage().c_str());
  // istiod may still work through a backlog of changes after its view is
  // complete; a change measured now would queue behind it.
  side.istiod_cold_cpu_s = istiod_cpu.End();
  side.globalsvc_cold_cpu_s = setup.controller ? ours_cpu.End() : 0;
  side.istiod_quiet_s =
      std::chrono::duration<double>(WaitForIstiodQuiet(args, limit) - start).count();
  std::fprintf(stderr, "bench_upstream: %s: istiod quiet %.2f s after connecting (%s)\n",
               side_name.c_str(), side.istiod_quiet_s, LoadAverage().c_str());
  {
    const auto paused = ambient.Pause();
    side.istiod_heap_added_kib = IstiodLiveHeapKiB(istiod_port) - heap_before;
    side.istiod_added_kib = RssOf(setup, false) - istiod_before;
    side.globalsvc_added_kib = RssOf(setup, true) - ours_before;
    if (!args.profiles.empty()) SaveHeapProfile(istiod_port, args.profiles, side_name);
  }
  side.remote_watches = remote.Watches() - watches_before;
  side.view = ambient.LastViewSize();

  // The view is larger now, so each read costs more: calibrate again.
  istiod_cpu.Begin();
  ours_cpu.Begin();
  std::this_thread::sleep_for(5s);
  istiod_cpu.Calibrate();
  ours_cpu.Calibrate();
  const std::string node = FirstNode(c2);
  const double writes_before = setup.writes ? setup.writes() : 0;
  istiod_cpu.Begin();
  ours_cpu.Begin();
  for (int s = 0; s < args.samples; ++s) {
    const int i = s % args.services;
    // cluster2's share changes at every visit; the other remotes' stays.
    const int weight = args.endpoints + 1 + (s / args.services) % 2;
    const int total = args.RemoteEndpoints() - args.endpoints + weight;
    const auto changed = Clock::now();
    ApplyObject(c2, resources::EndpointSlices(), SliceObject(2, i, weight, node, args.namespaces),
                BenchNamespace(i, args.namespaces));
    if (setup.written) {
      const auto written = setup.written(i, total);
      if (!written) Die("change " + std::to_string(s) + ": no object written within 30 s");
      side.globalsvc_share_ms.push_back(
          std::chrono::duration<double, std::milli>(*written - changed).count());
    }
    const auto shown = ambient.WaitFor(Host(args, i, setup.host_suffix), total, 30s);
    if (!shown) Die("change " + std::to_string(s) + " not in istiod's view within 30 s");
    side.convergence_ms.push_back(
        std::chrono::duration<double, std::milli>(*shown - changed).count());
  }
  side.istiod_change_cpu_s = istiod_cpu.End();
  side.globalsvc_change_cpu_s = setup.controller ? ours_cpu.End() : 0;
  if (setup.writes) side.writes_per_change = (setup.writes() - writes_before) / args.samples;
  ResetSlices(c2, args, node);
  return side;
}

Side Upstream(const Args& args, KubeClient& c1, KubeClient& c2, RemoteApiMetrics& remote) {
  SideSetup setup;
  setup.istiod = RestartIstiod(args, true);
  setup.host_suffix = ".svc.cluster.local";
  setup.connect = [&](const std::string& cluster) { ConnectIstiodRemote(c1, args, cluster); };
  Side side = Measure(args, c2, remote, setup, "upstream");
  for (int c = 2; c <= args.clusters; ++c)
    DeleteObject(c1, resources::Secrets(), "istio-system", IstiodRemoteSecret(ClusterName(c)));
  return side;
}

Side Globalsvc(const Args& args, KubeClient& c1, KubeClient& c2, RemoteApiMetrics& remote) {
  SideSetup setup;
  setup.istiod = RestartIstiod(args, false);
  EntryWatcher entries(c1, "workload-entries");
  ControllerProcess controller;
  controller.Start({args.testbed, args.globalsvc, "workload-entries", ""}, "cluster1", FreePort());
  WaitReadyAndSettle(controller);
  setup.controller = &controller;
  setup.host_suffix = ".mesh.internal";
  setup.connect = [&](const std::string& cluster) { ConnectRemote(c1, args.testbed, cluster); };
  setup.written = [&](int i, int weight) {
    return entries.WaitFor(
        "autogen." + BenchNamespace(i, args.namespaces) + ".svc-" + std::to_string(i), weight, 30s);
  };
  setup.writes = [&] { return controller.Metric("globalsvc_writes_total{kind=\"apply\"}"); };
  Side side = Measure(args, c2, remote, setup, "globalsvc");
  for (int c = 2; c <= args.clusters; ++c)
    DisconnectRemote(c1, ClusterName(c));
  std::this_thread::sleep_for(3s);  // the controller removes what it wrote
  controller.Stop();
  DeleteBenchEntries(c1);
  return side;
}

// ---------------------------------------------------------------- report

std::string Format(const char* format, auto... values) {
  char text[256];
  std::snprintf(text, sizeof(text), format, values...);
  return text;
}

// One row: the figure, both sides, and globalsvc / upstream.
std::string Row(const std::string& figure, const std::string& upstream,
                const std::string& globalsvc, double ours_value, double upstream_value) {
  const std::string ratio =
      upstream_value > 0 ? Format("%.2f", ours_value / upstream_value) : std::string("—");
  return "| " + figure + " | " + upstream + " | " + globalsvc + " | " + ratio + " |\n";
}

void Report(const Args& args, const Side& up, const Side& ours, const std::string& load) {
  const auto mib = [](long kib) { return static_cast<double>(kib) / 1024.0; };
  const auto p = [](const std::vector<double>& values, double q) { return Percentile(values, q); };
  std::string text = Format(
      "\n%s, %d remote(s) of %d services / %d endpoints each, %d changes, %s\n\n", Today().c_str(),
      args.clusters - 1, args.services, args.services * args.endpoints, args.samples, load.c_str());
  text += "| figure | upstream | globalsvc | globalsvc / upstream |\n|---|---|---|---|\n";
  text += Row("memory added by the remotes: istiod (+ globalsvc)",
              Format("%.1f MiB", mib(up.AddedKiB())),
              Format("%.1f + %.1f MiB", mib(ours.istiod_added_kib), mib(ours.globalsvc_added_kib)),
              mib(ours.AddedKiB()), mib(up.AddedKiB()));
  text += Row("istiod's live heap added by the remotes (after a GC)",
              Format("%.1f MiB", mib(up.istiod_heap_added_kib)),
              Format("%.1f MiB", mib(ours.istiod_heap_added_kib)), mib(ours.istiod_heap_added_kib),
              mib(up.istiod_heap_added_kib));
  text += Row("globalsvc's own share vs upstream istiod", Format("%.1f MiB", mib(up.AddedKiB())),
              Format("%.1f MiB", mib(ours.globalsvc_added_kib)), mib(ours.globalsvc_added_kib),
              mib(up.AddedKiB()));
  text += Row("cold start: remotes connected to a complete ambient view",
              Format("%.2f s", up.cold_start_s), Format("%.2f s", ours.cold_start_s),
              ours.cold_start_s, up.cold_start_s);
  text += Row("istiod done: remotes connected to its last push of the cold start",
              Format("%.2f s", up.istiod_quiet_s), Format("%.2f s", ours.istiod_quiet_s),
              ours.istiod_quiet_s, up.istiod_quiet_s);
  for (const double q : {0.5, 0.99}) {
    text +=
        Row(Format("convergence p%.0f: remote slice to istiod's view (globalsvc's part)", q * 100),
            Format("%.1f ms", p(up.convergence_ms, q)),
            Format("%.1f ms (%.1f)", p(ours.convergence_ms, q), p(ours.globalsvc_share_ms, q)),
            p(ours.convergence_ms, q), p(up.convergence_ms, q));
  }
  text += Row("CPU of the cold start: istiod (+ globalsvc)", Format("%.2f s", up.ColdCpu()),
              Format("%.2f + %.2f s", ours.istiod_cold_cpu_s, ours.globalsvc_cold_cpu_s),
              ours.ColdCpu(), up.ColdCpu());
  text += Row("CPU of the changes: istiod (+ globalsvc)", Format("%.2f s", up.ChangeCpu()),
              Format("%.2f + %.2f s", ours.istiod_change_cpu_s, ours.globalsvc_change_cpu_s),
              ours.ChangeCpu(), up.ChangeCpu());
  text += Row("watches opened on one remote's API server", Format("%.0f", up.remote_watches),
              Format("%.0f", ours.remote_watches), ours.remote_watches, up.remote_watches);
  text += Row("LIST requests to one remote during the cold start", Format("%.0f", up.remote_lists),
              Format("%.0f", ours.remote_lists), ours.remote_lists, up.remote_lists);
  text += Row("writes in cluster1 per change", "0", Format("%.2f", ours.writes_per_change), 0, 0);
  text += Row("Workloads ztunnel would receive for the remotes (count, JSON bytes)",
              Format("%zu, %zu B", up.view.workloads, up.view.bytes),
              Format("%zu, %zu B", ours.view.workloads, ours.view.bytes),
              static_cast<double>(ours.view.bytes), static_cast<double>(up.view.bytes));
  AppendMarkdown(args.markdown, text);
}

// One side's main figures as soon as it is done, so a run that cannot finish
// the other side still leaves them.
void PrintSide(const char* name, const Side& side) {
  std::fprintf(
      stderr,
      "bench_upstream: %s: +%.1f MiB (istiod %.1f MiB RSS, %.1f MiB live heap), cold "
      "start %.2f s (istiod done at %.2f s; CPU: istiod %.2f s, globalsvc %.2f s), p50 %.1f ms, "
      "p99 %.1f ms (%s)\n",
      name, static_cast<double>(side.AddedKiB()) / 1024.0,
      static_cast<double>(side.istiod_added_kib) / 1024.0,
      static_cast<double>(side.istiod_heap_added_kib) / 1024.0, side.cold_start_s,
      side.istiod_quiet_s, side.istiod_cold_cpu_s, side.globalsvc_cold_cpu_s,
      Percentile(side.convergence_ms, 0.5), Percentile(side.convergence_ms, 0.99),
      LoadAverage().c_str());
}

Args ParseArgs(int argc, char** argv) {
  Args args;
  const char* env = std::getenv("GLOBALSVC_TESTBED_DIR");
  args.testbed = env ? fs::path(env) : fs::path(GLOBALSVC_SOURCE_DIR) / ".testbed";
  args.globalsvc = (fs::path(argv[0]).parent_path() / "../../cli/globalsvc").string();
  ParseFlags(
      argc, argv,
      {{"--services", [&](const std::string& v) { args.services = std::stoi(v); }},
       {"--endpoints", [&](const std::string& v) { args.endpoints = std::stoi(v); }},
       {"--samples", [&](const std::string& v) { args.samples = std::stoi(v); }},
       {"--clusters", [&](const std::string& v) { args.clusters = std::stoi(v); }},
       {"--testbed", [&](const std::string& v) { args.testbed = v; }},
       {"--globalsvc", [&](const std::string& v) { args.globalsvc = v; }},
       {"--markdown", [&](const std::string& v) { args.markdown = v; }},
       {"--profiles", [&](const std::string& v) { args.profiles = v; }},
       {"--reuse-world", [&](const std::string& v) { args.reuse_world = v == "true"; }},
       {"--sides", [&](const std::string& v) { args.sides = v; }},
       {"--namespaces", [&](const std::string& v) { args.namespaces = std::stoi(v); }},
       {"--local-namespaces", [&](const std::string& v) { args.local_namespaces = v == "true"; }}});
  if (args.sides != "both" && args.sides != "upstream" && args.sides != "globalsvc") {
    Die("--sides must be both, upstream or globalsvc");
  }
  if (args.services < 1 || args.endpoints < 1 || args.samples < 1 || args.namespaces < 1) {
    Die("--services, --endpoints, --samples and --namespaces must be positive");
  }
  if (args.clusters < 2) Die("--clusters must be 2 or more");
  (void)IstiodHttpPort(args.testbed, "cluster1");  // dies without istiod
  for (int c = 2; c <= args.clusters; ++c) {
    if (!fs::exists(args.testbed / ClusterName(c) / "kubeconfig")) {
      Die("no " + ClusterName(c) + " in the test bed " + args.testbed.string());
    }
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  const Args args = ParseArgs(argc, argv);
  std::vector<std::unique_ptr<KubeClient>> clients;  // [0] is cluster1
  for (int c = 1; c <= args.clusters; ++c)
    clients.push_back(Connect(args.testbed, ClusterName(c)));
  KubeClient& c1 = *clients[0];
  KubeClient& c2 = *clients[1];
  InstallCrds(c1);
  RemoteApiMetrics remote(args);
  // The world: no remote connected (of either kind, left by any earlier run),
  // the services in the remotes only.
  for (int c = 2; fs::exists(args.testbed / ClusterName(c)); ++c) {
    DisconnectRemote(c1, ClusterName(c));
    DeleteObject(c1, resources::Secrets(), "istio-system", IstiodRemoteSecret(ClusterName(c)));
  }
  DeleteBenchEntries(c1);
  {
    // cluster1 holds the bench namespaces only with --local-namespaces.
    std::vector<std::jthread> deleting;
    for (std::size_t c = 0; c < clients.size(); ++c) {
      if (c > 0 && args.reuse_world) continue;
      deleting.emplace_back([&, c] { DeleteNamespaceAndWait(*clients[c]); });
    }
  }
  if (args.local_namespaces) CreateBenchNamespaces(c1, args.namespaces);
  {
    std::vector<std::jthread> filling;
    for (int c = 2; c <= args.clusters; ++c) {
      filling.emplace_back([&, c] {
        KubeClient& cluster = *clients[static_cast<std::size_t>(c - 1)];
        if (!args.reuse_world) {
          Populate(cluster, c, args.services, args.endpoints, GlobalForBoth(), args.namespaces);
        }
        ApplyEastWestGateway(cluster, args, c);
      });
    }
  }
  const std::string load_before = LoadAverage();
  Side up, ours;
  if (args.sides != "globalsvc") {
    up = Upstream(args, c1, c2, remote);
    PrintSide("upstream", up);
  }
  if (args.sides != "upstream") {
    ours = Globalsvc(args, c1, c2, remote);
    PrintSide("globalsvc", ours);
  }
  if (args.sides == "both") Report(args, up, ours, load_before + " to " + LoadAverage());
  return 0;
}
