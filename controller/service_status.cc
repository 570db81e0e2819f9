#include "controller/service_status.h"

#include <map>
#include <set>

#include "lib/base/hash.h"
#include "lib/base/json_fields.h"
#include "lib/base/utf8.h"
#include "lib/mesh/scope.h"

namespace globalsvc::controller {
namespace {

// A message quoting user input stays readable and valid UTF-8.
constexpr std::size_t kMaxMessageBytes = 1024;

const char* StateName(ServiceEntryState state) {
  switch (state) {
    case ServiceEntryState::kSynced:
      return "Synced";
    case ServiceEntryState::kConflict:
      return "Conflict";
    case ServiceEntryState::kError:
      return "Error";
  }
  return "Error";
}

bool IsConflict(mesh::DiagnosticCode code) {
  return code == mesh::DiagnosticCode::kPortConflict ||
         code == mesh::DiagnosticCode::kPortNameConflict ||
         code == mesh::DiagnosticCode::kTrafficDistributionDisagreement;
}

struct ClusterSummary {
  std::string network;
  std::int64_t endpoints = 0;
  bool via_gateway = false;
  std::set<std::string> localities;
};

std::string ObjectText(const mesh::ObjectRef& object) {
  if (object.kind.empty()) return {};
  std::string text = object.kind + " ";
  if (!object.namespace_name.empty()) text += object.namespace_name + "/";
  return text + object.name;
}

// How the cluster-local name is taken over (status.takeover).
std::string TakeoverText(const mesh::ServiceEntry& entry) {
  if (!entry.cluster_local_host.empty()) return "ServiceEntryHost";
  if (!entry.takeover_selector.empty()) return "KubernetesService";
  return "NotApplied";
}

}  // namespace

namespace {

// Every exporting cluster's share of the entry, and the backends in all.
struct ClusterSummaries {
  std::map<std::string, ClusterSummary> clusters;
  std::int64_t total = 0;
};

ClusterSummaries SummarizeClusters(const ServiceStatusInput& input) {
  ClusterSummaries summaries;
  for (const auto& cluster : input.exporting_clusters)
    summaries.clusters[cluster];
  for (const auto& endpoint : input.entry->endpoints) {
    auto& summary = summaries.clusters[endpoint.cluster];
    const std::int64_t backends = endpoint.weight > 0 ? endpoint.weight : 1;
    summary.endpoints += backends;
    summaries.total += backends;
    if (summary.network.empty()) summary.network = endpoint.network;
    if (endpoint.address.empty()) summary.via_gateway = true;
    if (!endpoint.locality.empty()) summary.localities.insert(endpoint.locality);
  }
  return summaries;
}

// The `clusters` list, and the same as `a=3,b=1` for a printer column.
struct ClusterListing {
  nlohmann::json list = nlohmann::json::array();
  std::string by_cluster;
};

ClusterListing ListClusters(const std::map<std::string, ClusterSummary>& clusters) {
  ClusterListing listing;
  for (const auto& [name, summary] : clusters) {
    nlohmann::json item = {{"name", name}, {"endpoints", summary.endpoints}};
    if (!summary.network.empty()) item["network"] = summary.network;
    if (summary.via_gateway) item["viaGateway"] = true;
    if (!summary.localities.empty()) item["localities"] = summary.localities;
    listing.list.push_back(std::move(item));
    if (!listing.by_cluster.empty()) listing.by_cluster += ",";
    listing.by_cluster += name + "=" + std::to_string(summary.endpoints);
  }
  return listing;
}

// The first kMaxStatusDiagnostics diagnostics; `conflicts` counts them all.
nlohmann::json DiagnosticList(const ServiceStatusInput& input, std::int64_t& conflicts) {
  nlohmann::json diagnostics = nlohmann::json::array();
  if (!input.diagnostics) return diagnostics;
  for (const auto& d : *input.diagnostics) {
    if (IsConflict(d.code)) ++conflicts;
    if (diagnostics.size() >= kMaxStatusDiagnostics) continue;
    nlohmann::json item = {{"severity", std::string(mesh::SeverityName(d.severity))},
                           {"code", std::string(mesh::DiagnosticCodeName(d.code))},
                           {"message", ShortUtf8(d.message, kMaxMessageBytes)}};
    if (!d.object.cluster.empty()) item["cluster"] = d.object.cluster;
    if (auto object = ObjectText(d.object); !object.empty()) item["object"] = object;
    diagnostics.push_back(std::move(item));
  }
  return diagnostics;
}

}  // namespace

nlohmann::json BuildServiceStatus(const ServiceStatusInput& input) {
  const mesh::ServiceEntry& entry = *input.entry;
  const ClusterSummaries summaries = SummarizeClusters(input);
  const std::int64_t total = summaries.total;
  ClusterListing listing = ListClusters(summaries.clusters);
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& port : entry.ports) {
    ports.push_back({{"name", port.name}, {"number", port.number}, {"protocol", port.protocol}});
  }
  std::int64_t conflicts = input.state == ServiceEntryState::kConflict ? 1 : 0;
  nlohmann::json diagnostics = DiagnosticList(input, conflicts);

  // Empty fields are left out: the API server would return them the same
  // way, and the hashes must agree.
  nlohmann::json status = {
      {"host", entry.host},
      {"serviceEntry", entry.name},
      {"state", StateName(input.state)},
      {"endpoints", total},
      {"serviceEntryEndpoints", static_cast<std::int64_t>(entry.endpoints.size())},
      {"conflicts", conflicts},
  };
  if (!entry.traffic_distribution.empty()) {
    status["trafficDistribution"] = entry.traffic_distribution;
  }
  if (entry.takeover) status["takeover"] = TakeoverText(entry);
  if (!entry.segment.empty()) status["segment"] = entry.segment;
  if (!entry.alias_hosts.empty()) status["aliases"] = entry.alias_hosts;
  if (!input.message.empty()) status["message"] = ShortUtf8(input.message, kMaxMessageBytes);
  if (!listing.by_cluster.empty()) status["endpointsByCluster"] = listing.by_cluster;
  if (!listing.list.empty()) status["clusters"] = std::move(listing.list);
  if (!ports.empty()) status["ports"] = std::move(ports);
  if (!diagnostics.empty()) status["diagnostics"] = std::move(diagnostics);
  return status;
}

std::string StatusHash(const nlohmann::json& status) {
  if (!status.is_object() || !status.contains(kLastChangeTimeField)) {
    return StatusTextHash(DumpJson(status));
  }
  nlohmann::json content = status;
  content.erase(kLastChangeTimeField);
  // Object keys are sorted by nlohmann::json, so the text is canonical.
  return StatusTextHash(DumpJson(content));
}

std::string StatusTextHash(std::string_view text) {
  return HexHash(Fnv1a64(text));
}

std::string GlobalServiceName(const std::string& service_namespace,
                              const std::string& service_name) {
  return service_namespace + "." + service_name;
}

std::optional<std::string> KeyOfGlobalServiceName(const std::string& name) {
  const auto dot = name.find('.');  // namespaces hold no dots
  if (dot == std::string::npos || dot == 0 || dot + 1 == name.size()) return std::nullopt;
  return name.substr(0, dot) + "/" + name.substr(dot + 1);
}

bool ExportsService(const mesh::ClusterState& cluster, const std::string& service_namespace,
                    const std::string& service_name) {
  const mesh::Service* service =
      cluster.FindService(mesh::ServiceKey(service_namespace, service_name));
  if (!service || service->dormant) return false;
  const mesh::Namespace* ns = cluster.FindNamespace(service_namespace);
  return mesh::DecideScope(service->scope_label, ns ? ns->scope_label : std::nullopt).exported;
}

}  // namespace globalsvc::controller
