#include "lib/mesh/plan_traffic_distribution.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "lib/mesh/traffic_distribution.h"

namespace globalsvc::mesh {
namespace {

// The Service's annotation, else its spec.trafficDistribution, else its
// Namespace's annotation (in the Service's own cluster).
std::string ExplicitTrafficDistribution(const Contributor& c) {
  const Service& service = *c.service;
  if (service.traffic_distribution_annotation &&
      !service.traffic_distribution_annotation->empty()) {
    return *service.traffic_distribution_annotation;
  }
  if (!service.traffic_distribution_spec.empty()) return service.traffic_distribution_spec;
  const Namespace* ns = c.cluster->FindNamespace(service.namespace_name);
  if (ns != nullptr && ns->traffic_distribution_annotation) {
    return *ns->traffic_distribution_annotation;
  }
  return {};
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Two requested values that end up the same on the ServiceEntry as upstream
// applies it (PreferNetwork and PreferClose; PreferClose and PreferSameZone).
bool SameEffect(std::string_view a, std::string_view b) {
  if (EqualsIgnoreCase(a, b)) return true;
  const TrafficDistribution written_a = ParseTrafficDistribution(WrittenTrafficDistribution(a));
  const TrafficDistribution written_b = ParseTrafficDistribution(WrittenTrafficDistribution(b));
  return written_a != TrafficDistribution::kUnknown && written_a == written_b;
}

}  // namespace

std::string DecideTrafficDistribution(const std::vector<Contributor>& contributors,
                                      const ClusterState& target, Diagnostics& diagnostics) {
  std::string value;
  const Contributor* decided_by = nullptr;
  auto local = std::find_if(contributors.begin(), contributors.end(),
                            [&](const Contributor& c) { return c.cluster == &target; });
  if (local != contributors.end()) {
    value = ExplicitTrafficDistribution(*local);
    decided_by = &*local;
  } else {
    // No local Service: use the value every remote cluster agrees on.
    for (const Contributor& c : contributors) {
      std::string remote = ExplicitTrafficDistribution(c);
      if (remote.empty()) remote = kDefaultTrafficDistribution;
      if (!decided_by) {
        value = std::move(remote);
        decided_by = &c;
      } else if (!SameEffect(value, remote)) {
        Report(diagnostics, Severity::kWarning, DiagnosticCode::kTrafficDistributionDisagreement,
               ServiceRef(*c.cluster, *c.service),
               "remote clusters disagree on the traffic distribution (" + value + " in " +
                   decided_by->cluster->name() + ", " + remote + " in " + c.cluster->name() +
                   "); using " + kDefaultTrafficDistribution);
        return kDefaultTrafficDistribution;
      }
    }
  }
  if (value.empty()) return kDefaultTrafficDistribution;
  if (!IsKnownTrafficDistribution(value)) {
    Report(diagnostics, Severity::kWarning, DiagnosticCode::kUnknownTrafficDistribution,
           ServiceRef(*decided_by->cluster, *decided_by->service),
           "traffic distribution '" + value +
               "' is not one of PreferNetwork, PreferRegion, PreferClose, PreferSameZone, "
               "PreferSameNode; ztunnel will apply no locality preference");
  }
  return value;
}

}  // namespace globalsvc::mesh
