#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/snapshot_files.h"
#include "lib/base/json_fields.h"
#include "lib/base/yaml_json.h"
#include "lib/mesh/istio_objects.h"
#include "lib/mesh/model.h"
#include "lib/mesh/peer_gateways.h"
#include "lib/mesh/planner.h"

namespace globalsvc::cli {
namespace {

constexpr const char* kPlanUsage = R"(Usage: globalsvc plan -f DIR --cluster NAME [flags]

Prints the objects the controller would write in cluster NAME.

DIR holds one folder per cluster, named after the cluster, with that cluster's
objects as `kubectl get ... -o yaml` prints them (Services, Namespaces,
EndpointSlices, Nodes, Pods, and the east-west gateway Deployments and
Services of the control-plane namespace). For example:

  kubectl --context c1 get ns,svc,endpointslices,nodes,pods -A -o yaml > DIR/cluster1/objects.yaml
  kubectl --context c1 get deploy -n istio-system -o yaml > DIR/cluster1/gateways.yaml

Shapes:
  inline            one ServiceEntry per global service in the control-plane
                    namespace, every endpoint inline (what the controller
                    writes today)
  workload-entries  what upstream istiod needs: per global service a
                    ServiceEntry in the Service's namespace selecting one
                    WorkloadEntry per endpoint (the pods' own identity), and
                    one istio-remote peer Gateway per remote network

Flags:
  -f, --filename DIR     snapshot folder (required)
      --cluster NAME     the cluster to plan for (required)
      --namespace NS     control-plane namespace (default istio-system)
      --host-suffix S    host suffix (default mesh.internal)
      --cluster-domain D the clusters' DNS domain (default cluster.local)
      --shape SHAPE      workload-entries (default) or inline
      --trust-domain TD  trust domain of the SANs (default cluster.local)
  -o, --output FORMAT    yaml (default) or json

Problems are printed to standard error. Exit code 1 when any is an error.
)";

// What the plan is rendered as: ServiceEntries alone (inline), or with their
// WorkloadEntries and the peer Gateways.
std::vector<nlohmann::json> RenderPlan(const mesh::Plan& plan,
                                       std::span<const mesh::ClusterState* const> views,
                                       const mesh::PlanOptions& options, bool inline_shape,
                                       const std::string& trust_domain,
                                       mesh::Diagnostics& diagnostics) {
  std::vector<nlohmann::json> objects;
  if (inline_shape) {
    for (const auto& entry : plan.entries)
      objects.push_back(mesh::ToJson(entry));
    return objects;
  }
  mesh::ShapeOptions shape_options;
  shape_options.control_plane_namespace = options.control_plane_namespace;
  shape_options.trust_domain = trust_domain;
  for (const auto& entry : plan.entries) {
    auto rendered = mesh::RenderServiceObjects(entry, shape_options);
    objects.push_back(std::move(rendered.service_entry));
    for (auto& workload : rendered.workload_entries)
      objects.push_back(std::move(workload));
  }
  for (const auto& gateway :
       mesh::PlanPeerGateways(views, options.target_cluster, shape_options, diagnostics)) {
    objects.push_back(mesh::ToJson(gateway));
  }
  return objects;
}

void PrintObjects(std::vector<nlohmann::json> objects, const std::string& output,
                  std::ostream& out) {
  if (output == "json") {
    nlohmann::json list = {
        {"apiVersion", "v1"}, {"kind", "List"}, {"items", nlohmann::json::array()}};
    for (auto& object : objects)
      list["items"].push_back(std::move(object));
    out << DumpJson(list, 2) << "\n";
    return;
  }
  bool first = true;
  for (const auto& object : objects) {
    if (!first) out << "---\n";
    first = false;
    out << EmitYaml(object);
  }
}

}  // namespace

int RunPlan(const std::vector<std::string>& args, CommandIo io) {
  FlagSpec spec{{"-f", "--filename", "--cluster", "--namespace", "--host-suffix",
                 "--cluster-domain", "--shape", "--trust-domain", "-o", "--output"},
                {"--help", "-h"}};
  auto flags = ParseFlags(args, spec);
  if (!flags.ok()) {
    io.err << "globalsvc plan: " << flags.error().message << "\n\n" << kPlanUsage;
    return kExitUsage;
  }
  if (flags->Has("--help") || flags->Has("-h")) {
    io.out << kPlanUsage;
    return kExitOk;
  }
  const auto dir = flags->Get("--filename") ? flags->Get("--filename") : flags->Get("-f");
  const auto cluster = flags->Get("--cluster");
  const std::string output = flags->Get("--output").value_or(flags->GetOr("-o", "yaml"));
  const std::string shape = flags->GetOr("--shape", "workload-entries");
  if (!dir || !cluster || !flags->positional().empty() || (output != "yaml" && output != "json") ||
      (shape != "inline" && shape != "workload-entries")) {
    io.err << "globalsvc plan: needs -f DIR and --cluster NAME; -o is yaml or json; --shape is "
              "inline or workload-entries\n\n"
           << kPlanUsage;
    return kExitUsage;
  }

  SnapshotOptions snapshot_options;
  snapshot_options.control_plane_namespace =
      flags->GetOr("--namespace", mesh::kDefaultControlPlaneNamespace);
  mesh::Diagnostics diagnostics;
  auto clusters = LoadSnapshot(*dir, snapshot_options, diagnostics);
  if (!clusters.ok()) {
    io.err << "globalsvc plan: " << clusters.error().message << "\n";
    return kExitFindings;
  }

  mesh::PlanOptions options;
  options.target_cluster = *cluster;
  options.control_plane_namespace = snapshot_options.control_plane_namespace;
  options.host_suffix = flags->GetOr("--host-suffix", options.host_suffix);
  options.cluster_domain = flags->GetOr("--cluster-domain", options.cluster_domain);
  options.can_join_kubernetes_service = shape != "inline";
  std::vector<const mesh::ClusterState*> views;
  for (const auto& state : *clusters)
    views.push_back(&state);
  mesh::Plan plan = mesh::PlanCluster(views, options);
  diagnostics.insert(diagnostics.end(), plan.diagnostics.begin(), plan.diagnostics.end());
  PrintObjects(
      RenderPlan(plan, views, options, shape == "inline",
                 flags->GetOr("--trust-domain", mesh::ShapeOptions{}.trust_domain), diagnostics),
      output, io.out);
  for (const auto& diagnostic : diagnostics)
    io.err << mesh::FormatDiagnostic(diagnostic) << "\n";
  return mesh::HasErrors(diagnostics) ? kExitFindings : kExitOk;
}

}  // namespace globalsvc::cli
