#include "lib/mesh/plan_ports.h"

#include <map>
#include <string>
#include <utility>

#include "lib/mesh/port_protocol.h"

namespace globalsvc::mesh {
namespace {

std::string DescribePort(const ServiceEntryPort& port) {
  return "name=" + port.name + " protocol=" + port.protocol;
}

}  // namespace

std::vector<ServiceEntryPort> MergePorts(const std::vector<Contributor>& by_precedence,
                                         const ClusterState& target, Diagnostics& diagnostics) {
  std::map<std::int32_t, std::pair<ServiceEntryPort, const ClusterState*>> by_number;
  std::map<std::string, std::int32_t> number_of_name;
  for (const Contributor& c : by_precedence) {
    for (const ServicePort& port : c.service->ports) {
      if (port.protocol != "TCP") {
        Report(diagnostics, Severity::kInfo, DiagnosticCode::kNonTcpPort,
               ServiceRef(*c.cluster, *c.service),
               "port " + std::to_string(port.port) + "/" + port.protocol +
                   " is not exported: the mesh carries TCP only");
        continue;
      }
      if (port.port < 1 || port.port > 65535) {
        Report(diagnostics, Severity::kWarning, DiagnosticCode::kInvalidObject,
               ServiceRef(*c.cluster, *c.service),
               "port number " + std::to_string(port.port) + " is outside 1-65535; skipped");
        continue;
      }
      ServiceEntryPort candidate{
          port.name.empty() ? "port-" + std::to_string(port.port) : port.name, port.port,
          IstioProtocol(port.name, port.app_protocol),
          port.target_port > 0 && port.target_port <= 65535 ? port.target_port : 0};
      if (auto it = by_number.find(port.port); it != by_number.end()) {
        const auto& [winner, winner_cluster] = it->second;
        if (winner.name != candidate.name || winner.protocol != candidate.protocol) {
          const std::string why = winner_cluster == &target
                                      ? "the local cluster's"
                                      : "cluster " + winner_cluster->name() + "'s: first by name";
          Report(diagnostics, Severity::kWarning, DiagnosticCode::kPortConflict,
                 ServiceRef(*c.cluster, *c.service),
                 "port " + std::to_string(port.port) + " (" + DescribePort(candidate) +
                     ") conflicts with the definition in cluster " + winner_cluster->name() + " (" +
                     DescribePort(winner) + "); kept " + why);
        }
        continue;
      }
      if (auto it = number_of_name.find(candidate.name); it != number_of_name.end()) {
        Report(diagnostics, Severity::kWarning, DiagnosticCode::kPortNameConflict,
               ServiceRef(*c.cluster, *c.service),
               "port name " + candidate.name + " is already used by port " +
                   std::to_string(it->second) + "; port " + std::to_string(port.port) +
                   " is skipped");
        continue;
      }
      number_of_name.emplace(candidate.name, candidate.number);
      by_number.emplace(port.port, std::make_pair(std::move(candidate), c.cluster));
    }
  }
  std::vector<ServiceEntryPort> ports;
  ports.reserve(by_number.size());
  for (auto& [number, entry] : by_number)
    ports.push_back(std::move(entry.first));
  return ports;
}

}  // namespace globalsvc::mesh
