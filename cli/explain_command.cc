// globalsvc explain: where requests for a global host go from one client, and
// after which failures. This file holds the flags; explain_report.* gathers
// the data and explain_output.* renders it.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

#include "cli/client_location.h"
#include "cli/commands.h"
#include "cli/explain_output.h"
#include "cli/explain_report.h"
#include "cli/flags.h"
#include "cli/live_objects.h"
#include "lib/base/json_fields.h"
#include "lib/base/yaml_json.h"
#include "lib/failover/failover_simulator.h"
#include "lib/mesh/model.h"

namespace globalsvc::cli {
namespace {

constexpr const char* kExplainUsage =
    R"(Usage: globalsvc explain HOST --from CLUSTER/ZONE -f PATH... [flags]

Shows where requests for HOST (a global service's ServiceEntry host, e.g.
in-ambient.httpbin.mesh.internal) go from a client, ranked the way the data
plane ranks them: ztunnel by the ServiceEntry's traffic distribution (L4), or
with --l7 a waypoint by the DestinationRule's failoverPriority (Envoy
priorities). Group 1 takes every request; a later group takes over only when
every endpoint of the groups before it is gone. --down removes endpoints to
show where traffic goes after failures.

Objects are read from files (-f, repeatable): ServiceEntries (for example
`globalsvc plan` output or `kubectl get serviceentries -n istio-system -o yaml`)
and DestinationRules, and optionally Namespaces, Nodes and gateway Deployments.
Which cluster holds an object:
  -f DIR            each subfolder of DIR is a cluster, named after it (the
                    layout `globalsvc plan -f` reads); files directly in DIR
                    belong to no known cluster
  -f CLUSTER=FILE   everything in FILE belongs to CLUSTER
  -f FILE           unknown: a ServiceEntry then belongs to the cluster of its
                    local (addressed) endpoints
The client's cluster decides which ServiceEntry is used. When the other
clusters' ServiceEntries are given too, the endpoints behind each east-west
gateway are shown (the gateway spreads its share evenly over them).

Instead of files, --context (repeatable, one per cluster; the cluster is named
after the context) reads the live ServiceEntries, DestinationRules, Services,
Nodes and gateways of each cluster, from --kubeconfig (default $KUBECONFIG).

Flags:
      --from LOCATION    the client (with --l7: its waypoint): CLUSTER/ZONE,
                         CLUSTER/REGION/ZONE or CLUSTER/REGION/ZONE/SUBZONE; the
                         region of a bare zone comes from the endpoints or nodes
  -f, --filename PATH    file or folder, repeatable
      --kubeconfig FILE  kubeconfig (or ':'-separated list), repeatable
      --context NAME     a cluster to read live, repeatable
      --from-pod NS/POD  the client is this pod (of the first --context's
                         cluster): its node's region and zone
      --network NET      the client's network (default: from its cluster's
                         endpoints, gateway or control-plane namespace)
      --l7               rank as a waypoint (Envoy) instead of ztunnel
      --down K=V         a failure, repeatable: cluster=NAME, region=R, zone=Z
                         or endpoint=IP
      --requests N       also print a sample of N requests, counted like
                         `sort | uniq -c`
      --seed S           seed of the sample (default 1); same seed, same counts
      --namespace NS     namespace of the ServiceEntries (default istio-system)
  -o, --output FORMAT    table (default), json or yaml

Exit code 0 when explained, 1 when the files cannot answer, 2 on usage errors.
)";

// The flags that need no cluster to check.
struct ExplainOptions {
  std::string host;
  ObjectSources sources;
  std::string output;  // table, json or yaml
  int requests = 0;
  std::uint64_t seed = 1;
};

template <typename T>
bool ParseNumber(const std::string& text, T& value) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  try {
    value = static_cast<T>(std::stoull(text));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

// Fills `options` from `flags`; the first usage error, if any.
std::optional<std::string> ReadOptions(const ParsedFlags& flags, ExplainOptions& options) {
  ObjectSources& sources = options.sources;
  sources.live = flags.Has("--kubeconfig") || flags.Has("--context");
  if (flags.Has("--from-pod") && (!sources.live || flags.Has("--from"))) {
    return "--from-pod needs --context (the pod's cluster first) and excludes --from";
  }
  if (flags.positional().size() != 1) return "needs exactly one HOST";
  options.host = flags.positional().front();
  if (!flags.Has("--from") && !flags.Has("--from-pod")) {
    return "needs --from CLUSTER/ZONE or --from-pod";
  }
  sources.paths = flags.GetAll("-f");
  for (auto& path : flags.GetAll("--filename"))
    sources.paths.push_back(path);
  if (sources.paths.empty() && !sources.live) return "needs -f PATH, or --kubeconfig/--context";
  if (!sources.paths.empty() && sources.live) {
    return "-f and --kubeconfig/--context exclude each other";
  }
  sources.kubeconfigs = flags.GetAll("--kubeconfig");
  sources.contexts = flags.GetAll("--context");
  options.output = flags.Get("--output").value_or(flags.GetOr("-o", "table"));
  if (options.output != "table" && options.output != "json" && options.output != "yaml") {
    return "-o is table, json or yaml";
  }
  if (auto text = flags.Get("--requests"); text && !ParseNumber(*text, options.requests)) {
    return "--requests takes a whole number";
  }
  if (auto text = flags.Get("--seed"); text && !ParseNumber(*text, options.seed)) {
    return "--seed takes a whole number";
  }
  return std::nullopt;
}

// The query's flags besides the client's location; the first usage error, if any.
std::optional<std::string> ReadQueryFlags(const ParsedFlags& flags, failover::ExplainQuery& query) {
  query.network = flags.GetOr("--network", "");
  query.control_plane_namespace = flags.GetOr("--namespace", mesh::kDefaultControlPlaneNamespace);
  query.data_plane =
      flags.Has("--l7") ? failover::DataPlane::kWaypoint : failover::DataPlane::kZtunnel;
  for (const auto& text : flags.GetAll("--down")) {
    auto failure = failover::ParseFailure(text);
    if (!failure.ok()) return failure.error().message;
    query.failures.push_back(*failure);
  }
  return std::nullopt;
}

void PrintReport(std::ostream& out, const std::string& output, const ExplainReport& report) {
  if (output == "table") {
    PrintExplainTable(out, report);
  } else {
    const auto json = ExplainJson(report);
    out << (output == "json" ? DumpJson(json, 2) + "\n" : EmitYaml(json));
  }
}

}  // namespace

int RunExplain(const std::vector<std::string>& args, CommandIo io) {
  FlagSpec spec{{"--from", "-f", "--filename", "--network", "--down", "--requests", "--seed",
                 "--namespace", "-o", "--output", "--kubeconfig", "--context", "--from-pod"},
                {"--l7", "--help", "-h"}};
  auto flags = ParseFlags(args, spec);
  const auto usage = [&](const std::string& message) {
    io.err << "globalsvc explain: " << message << "\n\n" << kExplainUsage;
    return kExitUsage;
  };
  if (!flags.ok()) return usage(flags.error().message);
  if (flags->Has("--help") || flags->Has("-h")) {
    io.out << kExplainUsage;
    return kExitOk;
  }
  ExplainOptions options;
  if (auto problem = ReadOptions(*flags, options)) return usage(*problem);

  const auto fail = [&](const std::string& message) {
    io.err << "globalsvc explain: " << message << "\n";
    return kExitFindings;
  };
  failover::ExplainQuery query;
  query.host = options.host;
  // A --from that does not parse is a usage error; a pod that cannot be found is not.
  if (const auto from = flags->Get("--from")) {
    auto location = ParseClientLocation(*from);
    if (!location.ok()) return usage(location.error().message);
    query.from = *location;
  } else {
    const auto& contexts = options.sources.contexts;
    auto location = LocatePod(options.sources.kubeconfigs, contexts.empty() ? "" : contexts.front(),
                              *flags->Get("--from-pod"));
    if (!location.ok()) return fail(location.error().message);
    query.from = *location;
  }
  if (auto problem = ReadQueryFlags(*flags, query)) return usage(*problem);

  auto report = GatherExplainReport(options.sources, query, options.requests, options.seed);
  if (!report.ok()) return fail(report.error().message);
  PrintReport(io.out, options.output, *report);
  return kExitOk;
}

}  // namespace globalsvc::cli
