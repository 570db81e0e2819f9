// globalsvc lint: failover configuration problems in DestinationRules,
// ServiceEntries, Services, Namespaces, Nodes and east-west gateways.

#include <ostream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/live_objects.h"
#include "lib/base/json_fields.h"
#include "lib/base/yaml_json.h"
#include "lib/failover/lint.h"
#include "lib/mesh/model.h"

namespace globalsvc::cli {
namespace {

constexpr const char* kLintUsage = R"(Usage: globalsvc lint -f PATH... [flags]

Finds failover configurations that look right and are not:
  - DestinationRules for global hosts without outlierDetection (with a
    localityLbSetting this is an error: Istio then applies no locality failover)
  - failoverPriority orders that rank different localities equal, e.g.
    [zone, region]: another zone of the client's region and another region get
    the same priority; [region, zone] fails over zone -> region -> elsewhere
  - DestinationRule hosts that no ServiceEntry or global Service has
  - unknown networking.istio.io/traffic-distribution values, and PreferNetwork
    or PreferRegion, which upstream istiod does not apply (globalsvc writes
    PreferClose for them)
  - ServiceEntry endpoints, nodes and east-west gateways without region/zone

PATH is a file or a folder (each subfolder a cluster, as for `globalsvc plan`),
or CLUSTER=FILE; objects as `kubectl get ... -o yaml` prints them. Instead of
files, --context (repeatable, one per cluster) reads the live objects of each
cluster from --kubeconfig (default $KUBECONFIG).

Flags:
  -f, --filename PATH    file or folder, repeatable
      --kubeconfig FILE  kubeconfig (or ':'-separated list), repeatable
      --context NAME     a cluster to read live, repeatable
      --host-suffix S    host suffix of global services (default mesh.internal)
      --namespace NS     control-plane namespace (default istio-system)
  -o, --output FORMAT    table (default), json or yaml

Exit code 1 when any finding is an error, 0 otherwise, 2 on usage errors.
)";

std::string Describe(const mesh::ObjectRef& ref) {
  std::string out = ref.cluster.empty() ? std::string() : ref.cluster + " ";
  out += ref.kind + " ";
  if (!ref.namespace_name.empty()) out += ref.namespace_name + "/";
  return out + ref.name;
}

void PrintTable(const std::vector<failover::LintFinding>& findings, std::size_t object_count,
                std::ostream& out) {
  int errors = 0;
  for (const auto& finding : findings) {
    if (finding.severity == mesh::Severity::kError) ++errors;
    out << mesh::SeverityName(finding.severity) << " " << failover::LintCodeName(finding.code)
        << " " << Describe(finding.object) << "\n"
        << "  " << finding.message << "\n"
        << "  fix: " << finding.fix << "\n\n";
  }
  const auto plural = [](std::size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  out << (findings.empty() ? std::string("no findings")
                           : plural(findings.size(), "finding") + " (" +
                                 plural(static_cast<std::size_t>(errors), "error") + ")")
      << " in " << object_count << " objects\n";
}

// -o json or -o yaml.
void PrintDocument(const std::vector<failover::LintFinding>& findings, const std::string& output,
                   std::ostream& out) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& finding : findings) {
    list.push_back({{"severity", mesh::SeverityName(finding.severity)},
                    {"code", failover::LintCodeName(finding.code)},
                    {"object",
                     {{"cluster", finding.object.cluster},
                      {"kind", finding.object.kind},
                      {"namespace", finding.object.namespace_name},
                      {"name", finding.object.name}}},
                    {"message", finding.message},
                    {"fix", finding.fix}});
  }
  const nlohmann::json json = {{"findings", list}};
  out << (output == "json" ? DumpJson(json, 2) + "\n" : EmitYaml(json));
}

}  // namespace

int RunLint(const std::vector<std::string>& args, CommandIo io) {
  FlagSpec spec{{"-f", "--filename", "--host-suffix", "--namespace", "-o", "--output",
                 "--kubeconfig", "--context"},
                {"--help", "-h"}};
  auto flags = ParseFlags(args, spec);
  const auto usage = [&](const std::string& message) {
    io.err << "globalsvc lint: " << message << "\n\n" << kLintUsage;
    return kExitUsage;
  };
  if (!flags.ok()) return usage(flags.error().message);
  if (flags->Has("--help") || flags->Has("-h")) {
    io.out << kLintUsage;
    return kExitOk;
  }
  const bool live = flags->Has("--kubeconfig") || flags->Has("--context");
  std::vector<std::string> paths = flags->GetAll("-f");
  for (auto& path : flags->GetAll("--filename"))
    paths.push_back(path);
  if ((paths.empty() && !live) || !flags->positional().empty()) {
    return usage("needs -f PATH, or --kubeconfig/--context");
  }
  if (!paths.empty() && live) return usage("-f and --kubeconfig/--context exclude each other");
  const std::string output = flags->Get("--output").value_or(flags->GetOr("-o", "table"));
  if (output != "table" && output != "json" && output != "yaml") {
    return usage("-o is table, json or yaml");
  }

  auto objects =
      live ? LoadLiveObjects(flags->GetAll("--kubeconfig"), flags->GetAll("--context"),
                             flags->GetOr("--namespace", mesh::kDefaultControlPlaneNamespace))
           : LoadObjectFiles(paths);
  if (!objects.ok()) {
    io.err << "globalsvc lint: " << objects.error().message << "\n";
    return kExitFindings;
  }
  InlineWorkloadEntryShape(*objects);
  failover::LintOptions options;
  options.host_suffix = flags->GetOr("--host-suffix", options.host_suffix);
  options.control_plane_namespace =
      flags->GetOr("--namespace", mesh::kDefaultControlPlaneNamespace);
  const auto findings = failover::Lint(*objects, options);

  if (output == "table") {
    PrintTable(findings, objects->size(), io.out);
  } else {
    PrintDocument(findings, output, io.out);
  }
  return failover::HasLintErrors(findings) ? kExitFindings : kExitOk;
}

}  // namespace globalsvc::cli
