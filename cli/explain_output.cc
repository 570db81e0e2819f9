#include "cli/explain_output.h"

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "lib/failover/failover_model.h"
#include "lib/failover/failover_simulator.h"
#include "lib/mesh/model.h"

namespace globalsvc::cli {
namespace {

using nlohmann::json;

std::string Percent(double share) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", share * 100.0);
  return buffer;
}

// A plain text table: columns padded to their widest cell.
class Table {
 public:
  void Row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

  void Print(std::ostream& out) const {
    std::vector<std::size_t> widths;
    for (const auto& row : rows_) {
      widths.resize(std::max(widths.size(), row.size()));
      for (std::size_t i = 0; i < row.size(); ++i)
        widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows_) {
      std::string line;
      for (std::size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
      }
      out << line << "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

bool IsZtunnel(const failover::Explanation& explanation) {
  return explanation.policy.kind == failover::RankingKind::kZtunnelRank;
}

void PrintSummary(std::ostream& out, const ExplainReport& report) {
  const auto& input = report.input;
  const auto& client = input.simulation.client;
  out << "Host:          " << report.host << "\n"
      << "From:          " << client.cluster << " " << mesh::FormatLocality(client.locality)
      << " (network " << client.network << ")\n"
      << "ServiceEntry:  " << input.service_entry << "\n";
  if (!input.destination_rule.empty()) out << "Rule:          " << input.destination_rule << "\n";
  out << "Ranking:       " << report.explanation.policy.description << "\n";
  if (!input.simulation.failures.empty()) {
    std::string down;
    for (const auto& failure : input.simulation.failures) {
      down += (down.empty() ? "" : ", ") + failover::FormatFailure(failure);
    }
    out << "Down:          " << down << "\n";
  }
  out << "\n";
}

// One row per endpoint, best group first; the endpoints behind a gateway
// follow it, indented.
void PrintGroups(std::ostream& out, const failover::Explanation& explanation) {
  const bool ztunnel = IsZtunnel(explanation);
  Table table;
  table.Row({"GROUP", ztunnel ? "RANK" : "PRIORITY", "ENDPOINT", "CLUSTER", "NETWORK", "LOCALITY",
             "WEIGHT", "SHARE"});
  for (std::size_t g = 0; g < explanation.groups.size(); ++g) {
    const auto& group = explanation.groups[g];
    for (const auto& ranked : group.endpoints) {
      const auto& e = ranked.endpoint;
      table.Row({std::to_string(g + 1), std::to_string(group.score),
                 failover::EndpointDisplayName(e), e.cluster, e.network,
                 mesh::FormatLocality(e.locality), std::to_string(e.weight),
                 Percent(ranked.share)});
      for (std::size_t i = 0; i < e.behind.size(); ++i) {
        const auto& inner = e.behind[i];
        table.Row({"", "", "  > " + failover::EndpointDisplayName(inner), inner.cluster,
                   inner.network, mesh::FormatLocality(inner.locality),
                   std::to_string(inner.weight), Percent(ranked.behind_share[i])});
      }
    }
  }
  if (explanation.groups.empty()) {
    out << "No endpoint is left: requests fail.\n";
    return;
  }
  table.Print(out);
  out << "\nGroup 1 takes every request; a later group takes over only when every endpoint\n"
      << "of the groups before it is gone. "
      << (ztunnel ? "ztunnel uses only the highest rank."
                  : "Envoy uses the lowest priority with healthy endpoints.")
      << "\n";
}

void PrintRemoved(std::ostream& out, const failover::Explanation& explanation) {
  if (explanation.removed.empty()) return;
  out << "\nLeft out:\n";
  Table removed;
  for (const auto& item : explanation.removed) {
    removed.Row({"  " + failover::EndpointDisplayName(item.endpoint), item.endpoint.cluster,
                 mesh::FormatLocality(item.endpoint.locality), item.reason});
  }
  removed.Print(out);
}

void PrintNotes(std::ostream& out, const ExplainReport& report) {
  std::vector<std::string> notes = report.input.notes;
  notes.insert(notes.end(), report.explanation.notes.begin(), report.explanation.notes.end());
  if (notes.empty()) return;
  out << "\nNotes:\n";
  for (const auto& note : notes)
    out << "  " << note << "\n";
}

void PrintSample(std::ostream& out, const ExplainReport& report) {
  if (report.requests <= 0) return;
  out << "\nSample of " << report.requests << " requests (seed " << report.seed
      << "), as sort | uniq -c:\n";
  for (const auto& count : report.sample) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%7d ", count.count);
    out << prefix << count.endpoint << " (" << count.cluster
        << (count.via_gateway ? " via gateway" : "") << ")\n";
  }
}

json EndpointJson(const failover::FailoverEndpoint& endpoint) {
  json result = {{"endpoint", failover::EndpointDisplayName(endpoint)},
                 {"cluster", endpoint.cluster},
                 {"network", endpoint.network},
                 {"locality", mesh::FormatLocality(endpoint.locality)},
                 {"weight", endpoint.weight}};
  if (!endpoint.address.empty()) result["address"] = endpoint.address;
  return result;
}

json GroupsJson(const failover::Explanation& explanation) {
  json groups = json::array();
  for (std::size_t g = 0; g < explanation.groups.size(); ++g) {
    const auto& group = explanation.groups[g];
    json endpoints = json::array();
    for (const auto& ranked : group.endpoints) {
      json item = EndpointJson(ranked.endpoint);
      item["share"] = ranked.share;
      for (std::size_t i = 0; i < ranked.endpoint.behind.size(); ++i) {
        json inner = EndpointJson(ranked.endpoint.behind[i]);
        inner["share"] = ranked.behind_share[i];
        item["behind"].push_back(std::move(inner));
      }
      endpoints.push_back(std::move(item));
    }
    groups.push_back({{"group", g + 1},
                      {"score", group.score},
                      {"share", group.share},
                      {"endpoints", std::move(endpoints)}});
  }
  return groups;
}

json SampleJson(const std::vector<failover::SampleCount>& sample) {
  json counts = json::array();
  for (const auto& count : sample) {
    counts.push_back({{"count", count.count},
                      {"endpoint", count.endpoint},
                      {"cluster", count.cluster},
                      {"viaGateway", count.via_gateway}});
  }
  return counts;
}

}  // namespace

void PrintExplainTable(std::ostream& out, const ExplainReport& report) {
  PrintSummary(out, report);
  PrintGroups(out, report.explanation);
  PrintRemoved(out, report.explanation);
  PrintNotes(out, report);
  PrintSample(out, report);
}

json ExplainJson(const ExplainReport& report) {
  const auto& input = report.input;
  const auto& explanation = report.explanation;
  const auto& client = input.simulation.client;
  json result = {
      {"host", report.host},
      {"client",
       {{"cluster", client.cluster},
        {"network", client.network},
        {"locality", mesh::FormatLocality(client.locality)}}},
      {"dataPlane",
       input.simulation.data_plane == failover::DataPlane::kZtunnel ? "ztunnel" : "waypoint"},
      {"serviceEntry", input.service_entry},
      {"ranking", explanation.policy.description},
      {"scoreKind", IsZtunnel(explanation) ? "rank" : "priority"},
      {"down", json::array()},
      {"groups", GroupsJson(explanation)},
      {"removed", json::array()},
      {"notes", json::array()}};
  if (!input.destination_rule.empty()) result["destinationRule"] = input.destination_rule;
  for (const auto& failure : input.simulation.failures) {
    result["down"].push_back(failover::FormatFailure(failure));
  }
  for (const auto& removed : explanation.removed) {
    json item = EndpointJson(removed.endpoint);
    item["reason"] = removed.reason;
    result["removed"].push_back(std::move(item));
  }
  for (const auto& note : input.notes)
    result["notes"].push_back(note);
  for (const auto& note : explanation.notes)
    result["notes"].push_back(note);
  if (!report.sample.empty()) result["sample"] = SampleJson(report.sample);
  return result;
}

}  // namespace globalsvc::cli
