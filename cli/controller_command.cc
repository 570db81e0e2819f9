#include <pthread.h>
#include <signal.h>

#include <optional>
#include <ostream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "controller/controller.h"
#include "lib/mesh/model.h"
#include "lib/observability/logging.h"

namespace globalsvc::cli {
namespace {

constexpr const char* kControllerUsage = R"(Usage: globalsvc controller --cluster-name NAME [flags]

Runs the controller: keeps one ServiceEntry autogen.<ns>.<service> in the
control-plane namespace of this cluster for every global service of the mesh.
Remote clusters are read from Secrets labelled
globalsvc.solo.io/remote-cluster=true (one kubeconfig per data key; the key is
the cluster name).

Flags:
      --cluster-name NAME        this cluster's name in the mesh (required)
      --kubeconfig FILE          kubeconfig of this cluster (default: in-cluster config)
      --context NAME             kubeconfig context (default: current-context)
      --network NET              this cluster's network (default: the
                                 topology.istio.io/network label of the namespace)
      --namespace NS             control-plane namespace (default istio-system)
      --secret-namespace NS      where remote Secrets live (default: --namespace)
      --read-legacy-secrets BOOL also read remote Secrets labelled
                                 istio/multiCluster=true, with a warning, until
                                 they are relabelled (default true)
      --gateway-selector SEL     label selector of east-west gateway Deployments
                                 (default topology.istio.io/network)
      --host-suffix S            host suffix (default mesh.internal)
      --cluster-domain D         the clusters' DNS domain, of a taken-over
                                 <svc>.<ns>.svc.<D> (default cluster.local)
      --object-shape SHAPE       workload-entries (default): what upstream istiod
                                 needs, a ServiceEntry in the Service's namespace
                                 selecting one WorkloadEntry per endpoint, and an
                                 istio-remote peer Gateway per remote network
                                 (reads Pods and gateway Services too); inline:
                                 one ServiceEntry per global service in
                                 --namespace, endpoints inline (for Solo's istiod)
      --trust-domain TD          trust domain of the workload-entries shape's
                                 subjectAltNames (default cluster.local)
      --workers N                parallel reconciles (default 2)
      --qps Q, --burst B         client-side rate limit per cluster (default 50, 100)
      --status-qps Q             GlobalService status writes per second, within
                                 --qps (default 10; 0: only --qps limits them)
      --max-response-mib N       the largest API answer read, per request; a
                                 larger list page is asked for again in smaller
                                 pages, a larger answer otherwise is an error
                                 (default 16)
      --max-remote-objects N     the most objects (Services, EndpointSlices,
                                 Nodes, Namespaces, gateways) one remote
                                 cluster may have kept here; new ones beyond
                                 are refused and reported (default 1000000)
      --metrics-addr ADDR        /metrics, /healthz, /readyz (default :9090; "" disables)
      --leader-elect BOOL        use a Lease so only one replica writes (default true)
      --lease-name NAME          (default globalsvc)
      --identity ID              leader-election identity (default hostname-pid)
      --initial-sync-timeout S   seconds to wait for remote clusters before the
                                 first write (default 60); a remote cluster not
                                 synced by then keeps the endpoints this cluster's
                                 ServiceEntries already hold for it until it syncs
      --remote-stale-timeout D   remove the endpoints of a remote cluster that
                                 could not be read for this long (e.g. 90s, 10m,
                                 1h; a plain number is seconds); they return when
                                 it can be read again (default 0: kept, reported
                                 stale, however long the outage)
      --log-format text|json     (default text)
      --log-level LEVEL          trace, debug, info, warn, error (default info)

Stops on SIGTERM or SIGINT: the leader brings the RemoteCluster status up to
date, writing stops, then every watch.
)";

bool ParseBool(const std::string& text, bool& out) {
  if (text == "true" || text == "1") return out = true, true;
  if (text == "false" || text == "0") return out = false, true;
  return false;
}

template <typename T>
bool ParseNumber(const std::string& text, T& out) {
  try {
    std::size_t used = 0;
    if constexpr (std::is_floating_point_v<T>) {
      out = static_cast<T>(std::stod(text, &used));
    } else {
      out = static_cast<T>(std::stol(text, &used));
    }
    return used == text.size() && out >= 0;
  } catch (const std::exception&) {
    return false;
  }
}

// A usage error's message, or nothing when every flag read is valid.
using FlagProblem = std::optional<std::string>;

FlagProblem ReadTextOptions(const ParsedFlags& flags, controller::ControllerOptions& options) {
  options.cluster_name = flags.GetOr("--cluster-name", "");
  if (options.cluster_name.empty()) return "--cluster-name is required";
  options.kubeconfig = flags.GetOr("--kubeconfig", "");
  options.context = flags.GetOr("--context", "");
  options.network = flags.GetOr("--network", "");
  options.control_plane_namespace = flags.GetOr("--namespace", mesh::kDefaultControlPlaneNamespace);
  options.secret_namespace = flags.GetOr("--secret-namespace", "");
  options.gateway_selector = flags.GetOr("--gateway-selector", options.gateway_selector);
  options.host_suffix = flags.GetOr("--host-suffix", options.host_suffix);
  options.cluster_domain = flags.GetOr("--cluster-domain", options.cluster_domain);
  options.trust_domain = flags.GetOr("--trust-domain", options.trust_domain);
  if (const std::string shape = flags.GetOr("--object-shape", "workload-entries");
      shape == "inline") {
    options.object_shape = controller::ObjectShape::kInline;
  } else if (shape == "workload-entries") {
    options.object_shape = controller::ObjectShape::kWorkloadEntries;
  } else {
    return "--object-shape is inline or workload-entries";
  }
  options.metrics_address = flags.GetOr("--metrics-addr", options.metrics_address);
  options.lease_name = flags.GetOr("--lease-name", options.lease_name);
  options.identity = flags.GetOr("--identity", "");
  return std::nullopt;
}

FlagProblem ReadRateOptions(const ParsedFlags& flags, controller::ControllerOptions& options) {
  if (auto v = flags.Get("--workers");
      v && (!ParseNumber(*v, options.workers) || options.workers < 1)) {
    return "--workers must be a positive integer";
  }
  if (auto v = flags.Get("--qps"); v && !ParseNumber(*v, options.qps)) {
    return "--qps must be a number";
  }
  if (auto v = flags.Get("--status-qps");
      v && (!ParseNumber(*v, options.status_qps) || options.status_qps < 0)) {
    return "--status-qps must be a number, 0 or more";
  }
  if (auto v = flags.Get("--burst"); v && !ParseNumber(*v, options.burst)) {
    return "--burst must be an integer";
  }
  if (auto v = flags.Get("--max-response-mib");
      v && (!ParseNumber(*v, options.max_response_mib) || options.max_response_mib < 1 ||
            options.max_response_mib > 4096)) {
    return "--max-response-mib must be an integer from 1 to 4096";
  }
  if (auto v = flags.Get("--max-remote-objects");
      v && (!ParseNumber(*v, options.max_remote_objects) || options.max_remote_objects < 1)) {
    return "--max-remote-objects must be a positive integer";
  }
  return std::nullopt;
}

FlagProblem ReadSwitchesAndTimes(const ParsedFlags& flags, controller::ControllerOptions& options) {
  if (auto v = flags.Get("--leader-elect"); v && !ParseBool(*v, options.leader_elect)) {
    return "--leader-elect is true or false";
  }
  if (auto v = flags.Get("--read-legacy-secrets");
      v && !ParseBool(*v, options.read_legacy_secrets)) {
    return "--read-legacy-secrets is true or false";
  }
  if (auto v = flags.Get("--initial-sync-timeout")) {
    long seconds = 0;
    if (!ParseNumber(*v, seconds)) return "--initial-sync-timeout is a number of seconds";
    options.initial_sync_timeout = std::chrono::seconds(seconds);
  }
  if (auto v = flags.Get("--remote-stale-timeout");
      v && !ParseDuration(*v, options.remote_stale_timeout)) {
    return "--remote-stale-timeout is a duration such as 90s, 10m or 1h (0: never)";
  }
  return std::nullopt;
}

FlagProblem ConfigureLogs(const ParsedFlags& flags) {
  const auto format = obs::ParseLogFormat(flags.GetOr("--log-format", "text"));
  if (!format) return "--log-format is text or json";
  const auto level = spdlog::level::from_str(flags.GetOr("--log-level", "info"));
  obs::ConfigureLogging(*format, level);
  return std::nullopt;
}

// Runs the controller until SIGTERM or SIGINT.
int ServeUntilSignal(const controller::ControllerOptions& options, CommandIo io) {
  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  controller::Controller controller(options);
  if (auto started = controller.Start(); !started.ok()) {
    io.err << "globalsvc controller: " << started.error().message << "\n";
    return kExitFindings;
  }
  int received = 0;
  sigwait(&signals, &received);
  obs::ComponentLogger("controller").Info("signal received", {{"signal", received}});
  controller.Stop();
  return kExitOk;
}

const FlagSpec& ControllerFlags() {
  static const FlagSpec spec{{"--cluster-name",
                              "--kubeconfig",
                              "--context",
                              "--network",
                              "--namespace",
                              "--secret-namespace",
                              "--read-legacy-secrets",
                              "--gateway-selector",
                              "--host-suffix",
                              "--cluster-domain",
                              "--object-shape",
                              "--trust-domain",
                              "--workers",
                              "--qps",
                              "--status-qps",
                              "--burst",
                              "--max-response-mib",
                              "--max-remote-objects",
                              "--metrics-addr",
                              "--leader-elect",
                              "--lease-name",
                              "--identity",
                              "--initial-sync-timeout",
                              "--remote-stale-timeout",
                              "--log-format",
                              "--log-level"},
                             {"--help", "-h"}};
  return spec;
}

}  // namespace

int RunController(const std::vector<std::string>& args, CommandIo io) {
  auto usage = [&](const std::string& message) {
    io.err << "globalsvc controller: " << message << "\n\n" << kControllerUsage;
    return kExitUsage;
  };
  auto flags = ParseFlags(args, ControllerFlags());
  if (!flags.ok()) return usage(flags.error().message);
  if (flags->Has("--help") || flags->Has("-h")) {
    io.out << kControllerUsage;
    return kExitOk;
  }
  if (!flags->positional().empty()) {
    return usage("takes no positional arguments (got '" + flags->positional().front() + "')");
  }
  controller::ControllerOptions options;
  for (const auto& read : {ReadTextOptions, ReadRateOptions, ReadSwitchesAndTimes}) {
    if (auto problem = read(*flags, options)) return usage(*problem);
  }
  if (auto problem = ConfigureLogs(*flags)) return usage(*problem);
  return ServeUntilSignal(options, io);
}

}  // namespace globalsvc::cli
