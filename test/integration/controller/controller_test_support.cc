#include "test/integration/controller/controller_test_support.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "lib/kube/pem.h"
#include "lib/mesh/istio_objects.h"
#include "lib/mesh/model.h"
#include "lib/mesh/object_read_back.h"
#include "lib/mesh/service_entry.h"

namespace globalsvc::controller::testbed {

using testsupport::TestBed;
using testsupport::WaitFor;
using namespace std::chrono_literals;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string RemoteSecretYaml(const std::string& name, const std::string& cluster_key,
                             const std::string& kubeconfig, const std::string& label) {
  return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + name +
         "\n  namespace: istio-system\n  labels:\n    " + label +
         ": \"true\"\n"
         "data:\n  " +
         cluster_key + ": " + kube::EncodeBase64(kubeconfig) + "\n";
}

std::string RemoteSecretYaml(const TestBed& bed, const std::string& remote) {
  return RemoteSecretYaml("globalsvc-remote-" + remote, remote, ReadFile(bed.Kubeconfig(remote)));
}

controller::ControllerOptions InProcessOptions(const TestBed& bed, const std::string& cluster,
                                               const std::string& identity,
                                               const std::string& lease_name) {
  controller::ControllerOptions options;
  options.cluster_name = cluster;
  options.kubeconfig = bed.Kubeconfig(cluster).string();
  options.metrics_address = "127.0.0.1:0";
  options.identity = identity;
  options.lease_name = lease_name;
  options.initial_sync_timeout = std::chrono::seconds(30);
  return options;
}

Status PrepareGuideApp(const TestBed& bed) {
  const std::string sample =
      ReadFile(testsupport::SourceDir() / "manifests/samples/in-ambient.yaml");
  for (const auto& cluster : bed.clusters()) {
    if (auto applied = bed.Apply(cluster, sample); !applied.ok()) return applied;
    if (auto scaled = bed.Scale(cluster, "httpbin", "in-ambient", 2); !scaled.ok()) return scaled;
    auto labelled = bed.Kubectl(cluster, {"label", "--overwrite", "service", "in-ambient", "-n",
                                          "httpbin", "solo.io/service-scope=global"});
    if (!labelled.ok()) return MakeError(ErrorCode::kInternal, "label: " + labelled.err);
    // A previous run may have left an annotation behind.
    auto annotated = bed.Kubectl(cluster, {"annotate", "service", "in-ambient", "-n", "httpbin",
                                           "networking.istio.io/traffic-distribution-"});
    if (!annotated.ok()) return MakeError(ErrorCode::kInternal, "annotate: " + annotated.err);
  }
  for (const auto& cluster : bed.clusters()) {
    if (auto settled = SettleGuideApp(bed, cluster, 2); !settled.ok()) return settled;
  }
  return Ok{};
}

Status SettleGuideApp(const TestBed& bed, const std::string& cluster, int replicas) {
  auto settled = [&](std::chrono::seconds timeout) -> Status {
    auto ready = bed.WaitForReadyReplicas(cluster, "httpbin", "in-ambient", replicas, timeout);
    if (!ready.ok()) return ready;
    return bed.WaitForServiceEndpoints(cluster, "httpbin", "in-ambient", replicas, timeout);
  };
  const Status first = settled(60s);
  if (first.ok()) return first;
  std::cerr << "test bed: " << first.error().message
            << "; restarting kwok and kube-controller-manager of " << cluster << "\n";
  for (auto component :
       {testsupport::Component::kKwok, testsupport::Component::kControllerManager}) {
    (void)bed.StopComponent(cluster, component);  // fails when it had crashed: start it anyway
    if (auto started = bed.StartComponent(cluster, component); !started.ok()) return started;
  }
  return settled(120s);
}

namespace {

std::optional<nlohmann::json> ParsedList(const TestBed& bed, const std::string& cluster,
                                         const std::vector<std::string>& args) {
  auto result = bed.Kubectl(cluster, args);
  if (!result.ok() || result.out.empty()) return std::nullopt;
  auto list = nlohmann::json::parse(result.out, nullptr, false);
  if (list.is_discarded() || !list.contains("items")) return std::nullopt;
  return list;
}

// The WorkloadEntry shape read back as the inline one: its endpoints joined
// in, the ServiceEntry's own metadata kept.
std::optional<nlohmann::json> Joined(const TestBed& bed, const std::string& cluster,
                                     nlohmann::json entry) {
  if (!mesh::SelectsWorkloadEntries(entry)) return entry;
  const std::string ns = entry["metadata"].value("namespace", "");
  const auto labels = entry["metadata"].value("labels", nlohmann::json::object());
  auto workloads =
      ParsedList(bed, cluster,
                 {"get", "workloadentries.networking.istio.io", "-n", ns, "-l",
                  std::string(mesh::kParentServiceNamespaceLabel) + "=" +
                      labels.value(mesh::kParentServiceNamespaceLabel, "") + "," +
                      mesh::kParentServiceLabel + "=" + labels.value(mesh::kParentServiceLabel, ""),
                  "-o", "json"});
  if (!workloads) return std::nullopt;
  std::vector<nlohmann::json> items;
  for (auto& item : (*workloads)["items"])
    items.push_back(std::move(item));
  const auto read = mesh::EntriesFromObjects({entry}, items);
  if (read.size() != 1) return std::nullopt;
  nlohmann::json inline_form = mesh::ToJson(read[0]);
  inline_form["metadata"] = entry["metadata"];
  if (entry.contains("status")) inline_form["status"] = entry["status"];
  return inline_form;
}

}  // namespace

Result<std::optional<nlohmann::json>> ReadServiceEntry(const TestBed& bed,
                                                       const std::string& cluster,
                                                       const std::string& name) {
  auto list = ParsedList(bed, cluster,
                         {"get", "serviceentries.networking.istio.io", "-A", "--field-selector",
                          "metadata.name=" + name, "-o", "json", "--request-timeout=10s"});
  if (!list) return MakeError(ErrorCode::kUnavailable, "ServiceEntries not listed");
  if ((*list)["items"].empty()) return std::optional<nlohmann::json>();
  auto joined = Joined(bed, cluster, (*list)["items"][0]);
  if (!joined) return MakeError(ErrorCode::kUnavailable, "WorkloadEntries not listed");
  return joined;
}

std::optional<nlohmann::json> GetServiceEntry(const TestBed& bed, const std::string& cluster,
                                              const std::string& name) {
  auto read = ReadServiceEntry(bed, cluster, name);
  return read.ok() ? *read : std::nullopt;
}

std::vector<nlohmann::json> ManagedServiceEntries(const TestBed& bed, const std::string& cluster) {
  std::vector<nlohmann::json> out;
  auto list = ParsedList(bed, cluster,
                         {"get", "serviceentries.networking.istio.io", "-A", "-l",
                          "app.kubernetes.io/managed-by=globalsvc", "-o", "json"});
  if (!list) return out;
  for (auto& item : (*list)["items"]) {
    if (auto joined = Joined(bed, cluster, std::move(item))) out.push_back(std::move(*joined));
  }
  return out;
}

std::string ServiceEntryNamespace(const TestBed& bed, const std::string& cluster,
                                  const std::string& name) {
  auto list = ParsedList(bed, cluster,
                         {"get", "serviceentries.networking.istio.io", "-A", "--field-selector",
                          "metadata.name=" + name, "-o", "json"});
  if (!list || (*list)["items"].empty()) return "";
  return (*list)["items"][0]["metadata"].value("namespace", "");
}

std::vector<std::string> EndpointLines(const nlohmann::json& entry) {
  std::vector<std::string> lines;
  const auto spec = entry.value("spec", nlohmann::json::object());
  for (const auto& e : spec.value("endpoints", nlohmann::json::array())) {
    lines.push_back(
        e.value("labels", nlohmann::json::object()).value("topology.istio.io/cluster", "") + " " +
        e.value("network", "") + " " + e.value("locality", "") + " " +
        std::to_string(e.value("weight", 0)) + " " + (e.contains("address") ? "pod" : "gateway"));
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines)
    out += "[" + line + "] ";
  return out;
}

Status WaitForEndpoints(const TestBed& bed, const std::string& cluster,
                        const std::vector<std::string>& expected, const std::string& name,
                        std::chrono::milliseconds timeout) {
  return WaitFor("ServiceEntry " + name + " endpoints in " + cluster, timeout,
                 [&](std::string* why) {
                   auto entry = GetServiceEntry(bed, cluster, name);
                   if (!entry) {
                     *why = "no ServiceEntry";
                     return false;
                   }
                   auto lines = EndpointLines(*entry);
                   *why = "endpoints: " + JoinLines(lines) + "; expected " + JoinLines(expected);
                   return lines == expected;
                 });
}

std::set<std::string> WarningEventReporters(const TestBed& bed, const std::string& cluster,
                                            const std::string& ns, const std::string& kind,
                                            const std::string& name, const std::string& reason) {
  std::set<std::string> reporters;
  auto events = bed.GetJson(
      cluster, {"events.events.k8s.io", "-n", ns, "--field-selector", "reason=" + reason});
  if (!events.ok()) return reporters;
  for (const auto& item : (*events).value("items", nlohmann::json::array())) {
    const auto regarding = item.value("regarding", nlohmann::json::object());
    if (item.value("type", "") == "Warning" && regarding.value("kind", "") == kind &&
        regarding.value("name", "") == name) {
      reporters.insert(item.value("reportingInstance", ""));
    }
  }
  return reporters;
}

bool HasWarningEvent(const TestBed& bed, const std::string& cluster, const std::string& ns,
                     const std::string& kind, const std::string& name, const std::string& reason) {
  return !WarningEventReporters(bed, cluster, ns, kind, name, reason).empty();
}

namespace {

// Parses `name{k="v",...} value`; false for comments and blank lines.
bool ParseSample(std::string_view line, std::string_view& name,
                 std::map<std::string, std::string>& labels, double& value) {
  if (line.empty() || line.front() == '#') return false;
  const auto name_end = line.find_first_of("{ ");
  if (name_end == std::string_view::npos) return false;
  name = line.substr(0, name_end);
  labels.clear();
  std::size_t pos = name_end;
  if (line[pos] == '{') {
    ++pos;
    while (pos < line.size() && line[pos] != '}') {
      const auto eq = line.find('=', pos);
      if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
        return false;
      }
      std::string key(line.substr(pos, eq - pos));
      std::string text;
      pos = eq + 2;
      while (pos < line.size() && line[pos] != '"') {
        if (line[pos] == '\\' && pos + 1 < line.size()) ++pos;
        text += line[pos++];
      }
      labels[std::move(key)] = std::move(text);
      ++pos;  // closing quote
      if (pos < line.size() && line[pos] == ',') ++pos;
    }
    ++pos;  // closing brace
  }
  const auto space = line.find(' ', pos);
  if (space == std::string_view::npos) return false;
  try {
    value = std::stod(std::string(line.substr(space + 1)));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

double MetricValue(std::string_view text, std::string_view series) {
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return 0;
}

std::optional<double> FindMetric(std::string_view text, std::string_view name,
                                 const std::map<std::string, std::string>& labels) {
  std::istringstream lines{std::string(text)};
  std::string line;
  std::string_view sample_name;
  std::map<std::string, std::string> sample_labels;
  double value = 0;
  while (std::getline(lines, line)) {
    if (!ParseSample(line, sample_name, sample_labels, value) || sample_name != name) continue;
    const bool match = std::all_of(labels.begin(), labels.end(), [&](const auto& pair) {
      auto it = sample_labels.find(pair.first);
      return it != sample_labels.end() && it->second == pair.second;
    });
    if (match) return value;
  }
  return std::nullopt;
}

std::string RequestedDistribution(const nlohmann::json& entry) {
  if (!entry.is_object()) return {};
  const auto metadata = entry.value("metadata", nlohmann::json::object());
  const auto annotations = metadata.value("annotations", nlohmann::json::object());
  const std::string requested =
      annotations.value("globalsvc.solo.io/requested-traffic-distribution", "");
  return requested.empty() ? annotations.value("networking.istio.io/traffic-distribution", "")
                           : requested;
}

}  // namespace globalsvc::controller::testbed
