// globalsvc side by side with upstream Istio's own ambient multicluster, on
// one test bed (scripts/testbed up --clusters 2 --istio), in one run, from
// one generated world: cluster2 holds N selector-less services with E
// endpoints each, labelled global for both (solo.io/service-scope=global and
// istio.io/global=true).
//
//   upstream: cluster1's istiod restarted in multi-network mode
//             (AMBIENT_ENABLE_MULTI_NETWORK=true) reads cluster2 through an
//             istio/multiCluster Secret; cluster2's east-west Gateway (class
//             istio-east-west) tells it where cluster2's network is reached.
//   globalsvc: cluster1's istiod in its default mode, globalsvc in cluster1
//             reading cluster2 through its remote Secret and writing
//             WorkloadEntries for istiod to read.
//
// For each side: memory added by the remote cluster (istiod's RSS delta; for
// globalsvc also its own), cold start (remote connected to every host
// complete in cluster1 istiod's ambient view), convergence of remote
// EndpointSlice changes to that view, CPU seconds, watches and requests
// against cluster2's API server, and the Workloads ztunnel would receive.
// Every figure is printed with the machine's load and as a ratio between the
// two sides; no figure fails anything.
//
//   bench_upstream [--services 300] [--endpoints 14] [--samples 500]
//                  [--testbed DIR] [--globalsvc PATH] [--markdown FILE]

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
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

constexpr char kIstiodRemoteSecret[] = "istio-remote-secret-cluster2";

struct Args {
  int services = 300;
  int endpoints = 14;
  int samples = 500;
  fs::path testbed;
  std::string globalsvc;
  std::string markdown;
};

// CPU seconds of one process in a phase, less what it spends idle while
// istiod's view is polled (measured just before), so the figure is the
// phase's own work.
struct CpuMeter {
  explicit CpuMeter(pid_t process) : pid(process) {}

  pid_t pid;
  double idle_per_s = 0;
  double start = 0;
  Clock::time_point started;

  void Begin() {
    start = ProcessCpuSeconds(pid);
    started = Clock::now();
  }
  [[nodiscard]] double End() const {
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return std::max(0.0, ProcessCpuSeconds(pid) - start - idle_per_s * seconds);
  }
};

// What one side measured. globalsvc's own figures stay 0 for upstream.
struct Side {
  long istiod_added_kib = 0;
  long globalsvc_added_kib = 0;
  double cold_start_s = 0;
  double istiod_cold_cpu_s = 0, globalsvc_cold_cpu_s = 0;
  double istiod_change_cpu_s = 0, globalsvc_change_cpu_s = 0;  // all changes
  std::vector<double> convergence_ms;
  std::vector<double> globalsvc_share_ms;  // to globalsvc's object
  double writes_per_change = 0;
  double remote_watches = 0;   // opened on cluster2 by the remote reader
  double remote_requests = 0;  // to cluster2 during the cold start, above idle
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
    std::istringstream lines(response->body);
    double total = 0;
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with(name + "{") || line.find(must_contain) == std::string::npos) continue;
      total += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
    }
    return total;
  }
  double Watches() { return Sum("apiserver_longrunning_requests", "verb=\"WATCH\""); }
  double Requests() { return Sum("apiserver_request_total"); }

 private:
  std::unique_ptr<kube::RestTransport> transport_;
};

// cluster2's east-west gateway as upstream's multi-network mode reads it from
// a remote cluster: class istio-east-west, the network label, an HBONE
// listener that terminates TLS, and an address in status. Its controller
// (a multi-network istiod of cluster2) would publish the address; cluster2's
// istiod runs in the default mode here, so the bench writes it.
void ApplyEastWestGateway(KubeClient& c2) {
  const kube::ResourceType gateways{"gateway.networking.k8s.io", "v1", "gateways", true};
  const nlohmann::json gateway = {
      {"apiVersion", "gateway.networking.k8s.io/v1"},
      {"kind", "Gateway"},
      {"metadata",
       {{"name", "istio-eastwest"},
        {"namespace", "istio-system"},
        {"labels", {{"topology.istio.io/network", "cluster2-network"}}}}},
      {"spec",
       {{"gatewayClassName", "istio-east-west"},
        {"listeners",
         {{{"name", "mesh"},
           {"port", 15008},
           {"protocol", "HBONE"},
           {"tls",
            {{"mode", "Terminate"},
             {"options", {{"gateway.istio.io/tls-terminate-mode", "ISTIO_MUTUAL"}}}}}}}}}}};
  ApplyObject(c2, gateways, gateway, "istio-system");
  nlohmann::json status = gateway;
  status["status"] = {{"addresses", {{{"type", "IPAddress"}, {"value", "192.0.2.3"}}}}};
  auto current = Must(c2.Get(gateways, "istio-system", "istio-eastwest"), "east-west gateway");
  status["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"];
  Must(c2.Update(gateways, "istio-system", status, "status"), "east-west gateway status");
}

void ConnectIstiodRemote(KubeClient& c1, const Args& args) {
  const nlohmann::json secret = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata",
       {{"name", kIstiodRemoteSecret},
        {"namespace", "istio-system"},
        {"labels", {{"istio/multiCluster", "true"}}},
        {"annotations", {{"networking.istio.io/cluster", "cluster2"}}}}},
      {"stringData", {{"cluster2", ReadFile(args.testbed / "cluster2" / "kubeconfig")}}}};
  ApplyObject(c1, resources::Secrets(), secret, "istio-system");
}

// Both sides' labels on every service, so one world serves both runs.
nlohmann::json GlobalForBoth() {
  return {{"solo.io/service-scope", "global"}, {"istio.io/global", "true"}};
}

void ResetSlices(KubeClient& c2, const Args& args, const std::string& node) {
  Parallel(args.services, 4, [&](int i) {
    ApplyObject(c2, resources::EndpointSlices(), SliceObject(2, i, args.endpoints, node));
  });
}

std::string Host(int i, const std::string& suffix) {
  return "svc-" + std::to_string(i) + suffix;
}

// ---------------------------------------------------------------- the two sides

// What differs between the sides; Measure does the rest the same way.
struct SideSetup {
  pid_t istiod = -1;
  ControllerProcess* controller = nullptr;  // globalsvc's, or none
  std::string host_suffix;                  // of the bench hosts in istiod's view
  std::function<void()> connect;            // connects cluster2
  // When globalsvc's object for service `i` showed `weight` (globalsvc only).
  std::function<std::optional<SteadyTime>(int i, int weight)> written;
  std::function<double()> writes;  // globalsvc's writes so far (globalsvc only)
};

long RssOf(const SideSetup& setup, bool ours) {
  if (!ours) return ProcessRssKiB(setup.istiod);
  return setup.controller ? setup.controller->RssKiB() : 0;
}

// Idle window, connect, cold start, settle, then `samples` remote changes.
Side Measure(const Args& args, KubeClient& c2, RemoteApiMetrics& remote, const SideSetup& setup) {
  Side side;
  AmbientWatcher ambient(IstiodHttpPort(args.testbed, "cluster1"));
  std::this_thread::sleep_for(5s);  // istiod has read its own cluster
  CpuMeter istiod_cpu(setup.istiod);
  CpuMeter ours_cpu(setup.controller ? setup.controller->pid : -1);
  const long istiod_before = RssOf(setup, false), ours_before = RssOf(setup, true);
  const double watches_before = remote.Watches();
  // Idle, with istiod's view polled: the baseline every phase is net of.
  const double idle_requests = remote.Requests();
  istiod_cpu.Begin();
  ours_cpu.Begin();
  std::this_thread::sleep_for(5s);
  const double idle_requests_per_s = (remote.Requests() - idle_requests) / 5.0;
  istiod_cpu.idle_per_s = istiod_cpu.End() / 5.0;
  ours_cpu.idle_per_s = setup.controller ? ours_cpu.End() / 5.0 : 0;

  const double requests_before = remote.Requests();
  istiod_cpu.Begin();
  ours_cpu.Begin();
  const auto start = Clock::now();
  setup.connect();
  const auto complete = ambient.WaitForAll(static_cast<std::size_t>(args.services),
                                           setup.host_suffix, args.endpoints, 600s);
  if (!complete) {
    if (setup.controller) setup.controller->CheckAlive();
    Die("cluster1 istiod's view of " + setup.host_suffix + " not complete within 600 s");
  }
  side.cold_start_s = std::chrono::duration<double>(*complete - start).count();
  side.istiod_cold_cpu_s = istiod_cpu.End();
  side.globalsvc_cold_cpu_s = setup.controller ? ours_cpu.End() : 0;
  side.remote_requests =
      std::max(0.0, remote.Requests() - requests_before - idle_requests_per_s * side.cold_start_s);
  std::this_thread::sleep_for(5s);
  side.istiod_added_kib = RssOf(setup, false) - istiod_before;
  side.globalsvc_added_kib = RssOf(setup, true) - ours_before;
  side.remote_watches = remote.Watches() - watches_before;
  side.view = ambient.LastViewSize();

  const std::string node = FirstNode(c2);
  const double writes_before = setup.writes ? setup.writes() : 0;
  istiod_cpu.Begin();
  ours_cpu.Begin();
  for (int s = 0; s < args.samples; ++s) {
    const int i = s % args.services;
    const int weight = args.endpoints + 1 + (s / args.services) % 2;  // changes every visit
    const auto changed = Clock::now();
    ApplyObject(c2, resources::EndpointSlices(), SliceObject(2, i, weight, node));
    if (setup.written) {
      const auto written = setup.written(i, weight);
      if (!written) Die("change " + std::to_string(s) + ": no object written within 30 s");
      side.globalsvc_share_ms.push_back(
          std::chrono::duration<double, std::milli>(*written - changed).count());
    }
    const auto shown = ambient.WaitFor(Host(i, setup.host_suffix), weight, 30s);
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
  setup.host_suffix = ".bench.svc.cluster.local";
  setup.connect = [&] { ConnectIstiodRemote(c1, args); };
  Side side = Measure(args, c2, remote, setup);
  (void)c1.Delete(resources::Secrets(), "istio-system", kIstiodRemoteSecret);
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
  setup.host_suffix = ".bench.mesh.internal";
  setup.connect = [&] { ConnectRemote(c1, args.testbed, "cluster2"); };
  setup.written = [&](int i, int weight) {
    return entries.WaitFor("autogen.bench." + Host(i, ""), weight, 30s);
  };
  setup.writes = [&] { return controller.Metric("globalsvc_writes_total{kind=\"apply\"}"); };
  Side side = Measure(args, c2, remote, setup);
  DisconnectRemote(c1, "cluster2");
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
  std::string text =
      Format("\n%s, remote of %d services / %d endpoints, %d changes, %s\n\n", Today().c_str(),
             args.services, args.services * args.endpoints, args.samples, load.c_str());
  text += "| figure | upstream | globalsvc | globalsvc / upstream |\n|---|---|---|---|\n";
  text += Row("memory added by the remote: istiod (+ globalsvc)",
              Format("%.1f MiB", mib(up.AddedKiB())),
              Format("%.1f + %.1f MiB", mib(ours.istiod_added_kib), mib(ours.globalsvc_added_kib)),
              mib(ours.AddedKiB()), mib(up.AddedKiB()));
  text += Row("globalsvc's own share vs upstream istiod", Format("%.1f MiB", mib(up.AddedKiB())),
              Format("%.1f MiB", mib(ours.globalsvc_added_kib)), mib(ours.globalsvc_added_kib),
              mib(up.AddedKiB()));
  text += Row("cold start: remote connected to a complete ambient view",
              Format("%.2f s", up.cold_start_s), Format("%.2f s", ours.cold_start_s),
              ours.cold_start_s, up.cold_start_s);
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
  text += Row("watches opened on the remote API server", Format("%.0f", up.remote_watches),
              Format("%.0f", ours.remote_watches), ours.remote_watches, up.remote_watches);
  text += Row("requests to the remote during the cold start (above idle)",
              Format("%.0f", up.remote_requests), Format("%.0f", ours.remote_requests),
              ours.remote_requests, up.remote_requests);
  text += Row("writes in cluster1 per change", "0", Format("%.2f", ours.writes_per_change), 0, 0);
  text += Row("Workloads ztunnel would receive for the remote (count, JSON bytes)",
              Format("%zu, %zu B", up.view.workloads, up.view.bytes),
              Format("%zu, %zu B", ours.view.workloads, ours.view.bytes),
              static_cast<double>(ours.view.bytes), static_cast<double>(up.view.bytes));
  AppendMarkdown(args.markdown, text);
}

Args ParseArgs(int argc, char** argv) {
  Args args;
  const char* env = std::getenv("GLOBALSVC_TESTBED_DIR");
  args.testbed = env ? fs::path(env) : fs::path(GLOBALSVC_SOURCE_DIR) / ".testbed";
  args.globalsvc = (fs::path(argv[0]).parent_path() / "../../cli/globalsvc").string();
  if (argc % 2 == 0) Die(std::string("flag without a value: ") + argv[argc - 1]);
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--services")
      args.services = std::stoi(value);
    else if (flag == "--endpoints")
      args.endpoints = std::stoi(value);
    else if (flag == "--samples")
      args.samples = std::stoi(value);
    else if (flag == "--testbed")
      args.testbed = value;
    else if (flag == "--globalsvc")
      args.globalsvc = value;
    else if (flag == "--markdown")
      args.markdown = value;
    else
      Die("unknown flag " + flag);
  }
  if (args.services < 1 || args.endpoints < 1 || args.samples < 1) {
    Die("--services, --endpoints and --samples must be positive");
  }
  (void)IstiodHttpPort(args.testbed, "cluster1");  // dies without istiod
  (void)IstiodHttpPort(args.testbed, "cluster2");
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  const Args args = ParseArgs(argc, argv);
  auto c1 = Connect(args.testbed, "cluster1");
  auto c2 = Connect(args.testbed, "cluster2");
  InstallCrds(*c1);
  RemoteApiMetrics remote(args);
  // The world: no remote connected, the services in cluster2 only.
  DisconnectRemote(*c1, "cluster2");
  (void)c1->Delete(resources::Secrets(), "istio-system", kIstiodRemoteSecret);
  DeleteBenchEntries(*c1);
  {
    std::jthread one([&] { DeleteNamespaceAndWait(*c1); });
    DeleteNamespaceAndWait(*c2);
  }
  Populate(*c2, 2, args.services, args.endpoints, GlobalForBoth());
  ApplyEastWestGateway(*c2);
  const std::string load_before = LoadAverage();
  const Side up = Upstream(args, *c1, *c2, remote);
  const Side ours = Globalsvc(args, *c1, *c2, remote);
  Report(args, up, ours, load_before + " to " + LoadAverage());
  return 0;
}
