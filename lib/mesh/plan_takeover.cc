#include "lib/mesh/plan_takeover.h"

#include <algorithm>

#include "lib/mesh/takeover.h"

namespace globalsvc::mesh {
namespace {

std::string Unquoted(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Every cluster's say: the target's first (whether or not its Service is
// global), then each contributor's.
std::vector<TakeoverVoice> VoicesOf(const Service* local,
                                    const std::vector<Contributor>& contributors,
                                    const ClusterState& target, const ServiceEntry& entry) {
  const Namespace* local_namespace = target.FindNamespace(entry.service_namespace);
  std::vector<TakeoverVoice> voices;
  voices.push_back({target.name(), local ? local->takeover_label : std::nullopt,
                    local_namespace ? local_namespace->takeover_label : std::nullopt, false});
  for (const Contributor& c : contributors) {
    if (c.cluster == &target) {
      voices.front().global_only = c.scope == ScopeValue::kGlobalOnly;
      continue;
    }
    const Namespace* ns = c.cluster->FindNamespace(entry.service_namespace);
    voices.push_back({c.cluster->name(), c.service->takeover_label,
                      ns ? ns->takeover_label : std::nullopt, c.scope == ScopeValue::kGlobalOnly});
  }
  return voices;
}

// The Service's named targetPorts, which every joining WorkloadEntry lists.
void JoinLocalService(const Service& local, const ClusterState& target, ServiceEntry& entry) {
  entry.takeover_selector = local.selector;
  entry.takeover_local_cluster = target.name();
  for (const ServicePort& port : local.ports) {
    if (!port.target_port_name.empty()) {
      entry.takeover_named_ports.emplace_back(port.target_port_name, port.port);
    }
  }
  std::sort(entry.takeover_named_ports.begin(), entry.takeover_named_ports.end());
}

}  // namespace

void ApplyTakeover(const std::string& key, const std::vector<Contributor>& contributors,
                   const ClusterState& target, const PlanOptions& options, ServiceEntry& entry,
                   Diagnostics& diagnostics) {
  const Service* local = target.FindService(key);
  const Contributor* local_contributor = nullptr;
  for (const Contributor& c : contributors) {
    if (c.cluster == &target) local_contributor = &c;
  }
  const TakeoverDecision decision = DecideTakeover(VoicesOf(local, contributors, target, entry));
  const Contributor& first = local_contributor ? *local_contributor : contributors.front();
  const ObjectRef service_ref = ServiceRef(*first.cluster, *first.service);
  if (!decision.invalid.empty()) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kInvalidTakeover, service_ref,
           std::string(kServiceTakeoverLabel) +
               " must be 'true' or 'false'; ignored: " + Unquoted(decision.invalid));
  }
  if (!decision.takeover) return;
  entry.takeover = true;
  const std::string cluster_local_name =
      entry.service_name + "." + entry.service_namespace + ".svc." + options.cluster_domain;
  if (!local) {
    entry.cluster_local_host = cluster_local_name;
    return;
  }
  if (!local_contributor) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kTakeoverNotHonoured,
           {target.name(), "Service", local->namespace_name, local->name},
           "takeover (decided by " + decision.decided_by +
               ") is not applied here: this cluster's " + "Service is not global, so " +
               cluster_local_name + " keeps its own endpoints");
    return;
  }
  if (!options.can_join_kubernetes_service) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kTakeoverNotHonoured, service_ref,
           "takeover (decided by " + decision.decided_by + ") is not applied here: the inline " +
               "object shape cannot add endpoints to " + cluster_local_name +
               "; use the workload-entries shape");
    return;
  }
  if (local->selector.empty()) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kTakeoverNotHonoured, service_ref,
           "takeover (decided by " + decision.decided_by + ") is not applied here: the Service " +
               "has no selector, so istiod cannot add the other clusters' endpoints to " +
               cluster_local_name);
    return;
  }
  JoinLocalService(*local, target, entry);
}

}  // namespace globalsvc::mesh
