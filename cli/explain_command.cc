// globalsvc explain: where requests for a global host go from one client, and
// after which failures. Also holds LoadObjectFiles, which lint shares.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "cli/client_location.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/live_objects.h"
#include "lib/base/json_fields.h"
#include "lib/base/yaml_json.h"
#include "lib/failover/failover_input.h"
#include "lib/failover/failover_sample.h"
#include "lib/failover/failover_simulator.h"
#include "lib/mesh/model.h"

namespace globalsvc::cli {
namespace fs = std::filesystem;
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

bool IsObjectFile(const fs::path& path) {
  const std::string ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

Status LoadFile(const fs::path& file, const std::string& cluster,
                std::vector<failover::SourcedObject>& objects) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kInvalidInput, file.string() + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  auto documents = ParseYamlDocuments(text.str());
  if (!documents.ok()) {
    return MakeError(ErrorCode::kInvalidInput, file.string() + ": " + documents.error().message);
  }
  for (const auto& document : *documents) {
    failover::AppendObjects(document, cluster, file.string(), objects);
  }
  return Ok{};
}

std::vector<fs::path> SortedEntries(const fs::path& directory) {
  std::vector<fs::path> entries;
  std::error_code error;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    entries.push_back(it->path());
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

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

nlohmann::json EndpointJson(const failover::FailoverEndpoint& endpoint) {
  nlohmann::json json = {{"endpoint", failover::EndpointDisplayName(endpoint)},
                         {"cluster", endpoint.cluster},
                         {"network", endpoint.network},
                         {"locality", mesh::FormatLocality(endpoint.locality)},
                         {"weight", endpoint.weight}};
  if (!endpoint.address.empty()) json["address"] = endpoint.address;
  return json;
}

nlohmann::json ExplanationJson(const std::string& host, const failover::ExplainInput& input,
                               const failover::Explanation& explanation,
                               const std::vector<failover::SampleCount>& sample) {
  const auto& client = input.simulation.client;
  nlohmann::json json = {
      {"host", host},
      {"client",
       {{"cluster", client.cluster},
        {"network", client.network},
        {"locality", mesh::FormatLocality(client.locality)}}},
      {"dataPlane",
       input.simulation.data_plane == failover::DataPlane::kZtunnel ? "ztunnel" : "waypoint"},
      {"serviceEntry", input.service_entry},
      {"ranking", explanation.policy.description},
      {"scoreKind",
       explanation.policy.kind == failover::RankingKind::kZtunnelRank ? "rank" : "priority"},
      {"down", nlohmann::json::array()},
      {"groups", nlohmann::json::array()},
      {"removed", nlohmann::json::array()},
      {"notes", nlohmann::json::array()}};
  if (!input.destination_rule.empty()) json["destinationRule"] = input.destination_rule;
  for (const auto& failure : input.simulation.failures) {
    json["down"].push_back(failover::FormatFailure(failure));
  }
  for (std::size_t g = 0; g < explanation.groups.size(); ++g) {
    const auto& group = explanation.groups[g];
    nlohmann::json endpoints = nlohmann::json::array();
    for (const auto& ranked : group.endpoints) {
      nlohmann::json item = EndpointJson(ranked.endpoint);
      item["share"] = ranked.share;
      for (std::size_t i = 0; i < ranked.endpoint.behind.size(); ++i) {
        nlohmann::json inner = EndpointJson(ranked.endpoint.behind[i]);
        inner["share"] = ranked.behind_share[i];
        item["behind"].push_back(std::move(inner));
      }
      endpoints.push_back(std::move(item));
    }
    json["groups"].push_back({{"group", g + 1},
                              {"score", group.score},
                              {"share", group.share},
                              {"endpoints", std::move(endpoints)}});
  }
  for (const auto& removed : explanation.removed) {
    nlohmann::json item = EndpointJson(removed.endpoint);
    item["reason"] = removed.reason;
    json["removed"].push_back(std::move(item));
  }
  for (const auto& note : input.notes)
    json["notes"].push_back(note);
  for (const auto& note : explanation.notes)
    json["notes"].push_back(note);
  if (!sample.empty()) {
    json["sample"] = nlohmann::json::array();
    for (const auto& count : sample) {
      json["sample"].push_back({{"count", count.count},
                                {"endpoint", count.endpoint},
                                {"cluster", count.cluster},
                                {"viaGateway", count.via_gateway}});
    }
  }
  return json;
}

void PrintTable(std::ostream& out, const std::string& host, const failover::ExplainInput& input,
                const failover::Explanation& explanation,
                const std::vector<failover::SampleCount>& sample, int requests,
                std::uint64_t seed) {
  const auto& client = input.simulation.client;
  out << "Host:          " << host << "\n"
      << "From:          " << client.cluster << " " << mesh::FormatLocality(client.locality)
      << " (network " << client.network << ")\n"
      << "ServiceEntry:  " << input.service_entry << "\n";
  if (!input.destination_rule.empty()) out << "Rule:          " << input.destination_rule << "\n";
  out << "Ranking:       " << explanation.policy.description << "\n";
  if (!input.simulation.failures.empty()) {
    std::string down;
    for (const auto& failure : input.simulation.failures) {
      down += (down.empty() ? "" : ", ") + failover::FormatFailure(failure);
    }
    out << "Down:          " << down << "\n";
  }
  out << "\n";

  const bool ztunnel = explanation.policy.kind == failover::RankingKind::kZtunnelRank;
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
  } else {
    table.Print(out);
    out << "\nGroup 1 takes every request; a later group takes over only when every endpoint\n"
        << "of the groups before it is gone. "
        << (ztunnel ? "ztunnel uses only the highest rank."
                    : "Envoy uses the lowest priority with healthy endpoints.")
        << "\n";
  }
  if (!explanation.removed.empty()) {
    out << "\nLeft out:\n";
    Table removed;
    for (const auto& item : explanation.removed) {
      removed.Row({"  " + failover::EndpointDisplayName(item.endpoint), item.endpoint.cluster,
                   mesh::FormatLocality(item.endpoint.locality), item.reason});
    }
    removed.Print(out);
  }
  std::vector<std::string> notes = input.notes;
  notes.insert(notes.end(), explanation.notes.begin(), explanation.notes.end());
  if (!notes.empty()) {
    out << "\nNotes:\n";
    for (const auto& note : notes)
      out << "  " << note << "\n";
  }
  if (requests > 0) {
    out << "\nSample of " << requests << " requests (seed " << seed << "), as sort | uniq -c:\n";
    for (const auto& count : sample) {
      char prefix[16];
      std::snprintf(prefix, sizeof prefix, "%7d ", count.count);
      out << prefix << count.endpoint << " (" << count.cluster
          << (count.via_gateway ? " via gateway" : "") << ")\n";
    }
  }
}

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

}  // namespace

Result<std::vector<failover::SourcedObject>> LoadObjectFiles(
    const std::vector<std::string>& paths) {
  std::vector<failover::SourcedObject> objects;
  for (const std::string& arg : paths) {
    std::string cluster;
    fs::path path = arg;
    // CLUSTER=FILE; a path with '/' before the '=' is just a path.
    if (const auto eq = arg.find('=');
        eq != std::string::npos && eq > 0 && arg.substr(0, eq).find('/') == std::string::npos) {
      cluster = arg.substr(0, eq);
      path = arg.substr(eq + 1);
    }
    std::error_code error;
    if (fs::is_regular_file(path, error)) {
      if (auto status = LoadFile(path, cluster, objects); !status.ok()) return status.error();
      continue;
    }
    if (!fs::is_directory(path, error) || !cluster.empty()) {
      return MakeError(ErrorCode::kInvalidInput, path.string() + " is not a readable " +
                                                     (cluster.empty() ? "file or folder" : "file"));
    }
    for (const fs::path& entry : SortedEntries(path)) {
      if (fs::is_directory(entry, error)) {
        for (const fs::path& file : SortedEntries(entry)) {
          if (!fs::is_regular_file(file, error) || !IsObjectFile(file)) continue;
          auto status = LoadFile(file, entry.filename().string(), objects);
          if (!status.ok()) return status.error();
        }
      } else if (fs::is_regular_file(entry, error) && IsObjectFile(entry)) {
        if (auto status = LoadFile(entry, "", objects); !status.ok()) return status.error();
      }
    }
  }
  return objects;
}

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
  const bool live = flags->Has("--kubeconfig") || flags->Has("--context");
  if (flags->Has("--from-pod") && (!live || flags->Has("--from"))) {
    return usage("--from-pod needs --context (the pod's cluster first) and excludes --from");
  }
  if (flags->positional().size() != 1) return usage("needs exactly one HOST");
  const std::string host = flags->positional().front();
  const auto from = flags->Get("--from");
  if (!from && !flags->Has("--from-pod")) return usage("needs --from CLUSTER/ZONE or --from-pod");
  std::vector<std::string> paths = flags->GetAll("-f");
  for (auto& path : flags->GetAll("--filename"))
    paths.push_back(path);
  if (paths.empty() && !live) return usage("needs -f PATH, or --kubeconfig/--context");
  if (!paths.empty() && live) return usage("-f and --kubeconfig/--context exclude each other");
  const std::string output = flags->Get("--output").value_or(flags->GetOr("-o", "table"));
  if (output != "table" && output != "json" && output != "yaml") {
    return usage("-o is table, json or yaml");
  }
  int requests = 0;
  std::uint64_t seed = 1;
  if (auto text = flags->Get("--requests"); text && !ParseNumber(*text, requests)) {
    return usage("--requests takes a whole number");
  }
  if (auto text = flags->Get("--seed"); text && !ParseNumber(*text, seed)) {
    return usage("--seed takes a whole number");
  }

  failover::ExplainQuery query;
  query.host = host;
  if (from) {
    auto location = ParseClientLocation(*from);
    if (!location.ok()) return usage(location.error().message);
    query.from = *location;
  } else {
    const auto contexts = flags->GetAll("--context");
    auto location = LocatePod(flags->GetAll("--kubeconfig"),
                              contexts.empty() ? "" : contexts.front(), *flags->Get("--from-pod"));
    if (!location.ok()) {
      io.err << "globalsvc explain: " << location.error().message << "\n";
      return kExitFindings;
    }
    query.from = *location;
  }
  query.network = flags->GetOr("--network", "");
  query.control_plane_namespace = flags->GetOr("--namespace", mesh::kDefaultControlPlaneNamespace);
  query.data_plane =
      flags->Has("--l7") ? failover::DataPlane::kWaypoint : failover::DataPlane::kZtunnel;
  for (const auto& text : flags->GetAll("--down")) {
    auto failure = failover::ParseFailure(text);
    if (!failure.ok()) return usage(failure.error().message);
    query.failures.push_back(*failure);
  }

  auto objects = live ? LoadLiveObjects(flags->GetAll("--kubeconfig"), flags->GetAll("--context"),
                                        query.control_plane_namespace)
                      : LoadObjectFiles(paths);
  if (!objects.ok()) {
    io.err << "globalsvc explain: " << objects.error().message << "\n";
    return kExitFindings;
  }
  InlineWorkloadEntryShape(*objects);
  auto input = failover::BuildExplainInput(*objects, query);
  if (!input.ok()) {
    io.err << "globalsvc explain: " << input.error().message << "\n";
    return kExitFindings;
  }
  const failover::Explanation explanation = failover::Explain(input->simulation);
  const auto sample = failover::SampleRequests(explanation, requests, seed);
  if (output == "table") {
    PrintTable(io.out, host, *input, explanation, sample, requests, seed);
  } else {
    const auto json = ExplanationJson(host, *input, explanation, sample);
    io.out << (output == "json" ? DumpJson(json, 2) + "\n" : EmitYaml(json));
  }
  return kExitOk;
}

}  // namespace globalsvc::cli
