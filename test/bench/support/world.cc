#include "test/bench/support/world.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "lib/base/json_fields.h"
#include "lib/base/yaml_json.h"
#include "lib/kube/kubeconfig.h"
#include "test/bench/support/report.h"

namespace globalsvc::bench {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
namespace resources = kube::resources;

std::string ClusterName(int c) {
  return "cluster" + std::to_string(c);
}

nlohmann::json ScopeLabels(const std::string& scope) {
  return {{"solo.io/service-scope", scope}};
}
std::string ClusterEnv(const fs::path& testbed, const std::string& cluster,
                       const std::string& key) {
  std::istringstream lines(ReadFile(testbed / cluster / "cluster.env"));
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(key + "=")) return line.substr(key.size() + 1);
  }
  return "";
}

std::unique_ptr<KubeClient> Connect(const fs::path& testbed, const std::string& cluster) {
  auto config = Must(kube::LoadKubeconfig((testbed / cluster / "kubeconfig").string()),
                     "kubeconfig of " + cluster);
  kube::TransportOptions transport;
  transport.qps = 0;  // unlimited: the load generator must not be the bottleneck
  transport.max_idle_connections = 16;
  return Must(KubeClient::Create(config, kube::SystemClock::Instance(), transport),
              "client for " + cluster);
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// ---------------------------------------------------------------- load

std::string Ip(int cluster, int index) {
  return "10." + std::to_string(200 + cluster) + "." + std::to_string((index / 250) % 250) + "." +
         std::to_string(index % 250 + 1);
}

std::string BenchNamespace(int i, int namespaces) {
  return namespaces <= 1 ? std::string("bench") : "bench-" + std::to_string(i % namespaces);
}

nlohmann::json ServiceObject(int i, const nlohmann::json& labels, int namespaces) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata",
           {{"name", "svc-" + std::to_string(i)},
            {"namespace", BenchNamespace(i, namespaces)},
            {"labels", labels}}},
          {"spec", {{"ports", {{{"name", "http"}, {"port", 80}, {"targetPort", 8080}}}}}}};
}

nlohmann::json SliceObject(int cluster, int i, int endpoints, const std::string& node,
                           int namespaces) {
  nlohmann::json list = nlohmann::json::array();
  for (int e = 0; e < endpoints; ++e) {
    list.push_back({{"addresses", {Ip(cluster, i * 64 + e)}},
                    {"conditions", {{"ready", true}}},
                    {"nodeName", node}});
  }
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata",
           {{"name", "svc-" + std::to_string(i) + "-bench"},
            {"namespace", BenchNamespace(i, namespaces)},
            {"labels",
             {{"kubernetes.io/service-name", "svc-" + std::to_string(i)},
              {"endpointslice.kubernetes.io/managed-by", "bench"}}}}},
          {"addressType", "IPv4"},
          {"ports", {{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}},
          {"endpoints", list}};
}

std::string WorldMismatch(KubeClient& client, int cluster, int services, int endpoints) {
  const std::string where = ClusterName(cluster) + " namespace bench";
  auto listed = Retrying([&] { return client.List(resources::EndpointSlices(), "bench"); });
  if (!listed.ok()) return where + ": EndpointSlices not listed: " + listed.error().message;
  std::map<std::string, std::size_t> found;  // slice name -> endpoints
  for (const auto& slice : listed->items) {
    const auto* list = FieldOf(slice, "endpoints");
    found[StringFieldAt(slice, {"metadata", "name"})] =
        list != nullptr && list->is_array() ? list->size() : 0;
  }
  if (found.size() != static_cast<std::size_t>(services)) {
    return where + " holds " + std::to_string(found.size()) + " EndpointSlices, not " +
           std::to_string(services);
  }
  for (int i = 0; i < services; ++i) {
    const std::string name = "svc-" + std::to_string(i) + "-bench";
    const auto it = found.find(name);
    if (it == found.end()) return where + " has no EndpointSlice " + name;
    if (it->second != static_cast<std::size_t>(endpoints)) {
      return where + ": " + name + " holds " + std::to_string(it->second) + " endpoints, not " +
             std::to_string(endpoints);
    }
  }
  return "";
}

void Parallel(int n, int threads, const std::function<void(int)>& fn) {
  std::atomic<int> next{0};
  std::vector<std::jthread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++)
        fn(i);
    });
  }
}

void ApplyObject(KubeClient& client, const kube::ResourceType& type, const nlohmann::json& object,
                 std::string_view namespace_name) {
  kube::ApplyOptions apply;
  apply.field_manager = "bench";
  apply.force = true;
  auto result = Retrying([&] { return client.Apply(type, namespace_name, object, apply); });
  if (!result.ok()) Die("apply: " + result.error().message);
}

// A plain create (POST) costs the API server less than a server-side apply.
void CreateObject(KubeClient& client, const kube::ResourceType& type,
                  const nlohmann::json& object) {
  for (int attempt = 0;; ++attempt) {
    auto result = client.Create(type, object["metadata"].value("namespace", "bench"), object);
    if (result.ok() || result.error().code == ErrorCode::kConflict) return;
    if (!result.error().retryable() || attempt == 10) Die("create: " + result.error().message);
    std::this_thread::sleep_for(std::chrono::milliseconds(200 << std::min(attempt, 4)));
  }
}

std::string FirstNode(KubeClient& client) {
  auto nodes = Must(Retrying([&] { return client.List(resources::Nodes(), ""); }), "list nodes");
  if (nodes.items.empty()) Die("no nodes");
  return nodes.items[0]["metadata"]["name"];
}

void CreateBenchNamespaces(KubeClient& client, int namespaces) {
  // A namespace may still be terminating from the last run: retry until it exists.
  const auto deadline = Clock::now() + 300s;
  for (int k = 0; k < std::max(1, namespaces); ++k) {
    const std::string name = BenchNamespace(k, namespaces);
    while (!client.Get(resources::Namespaces(), "", name).ok()) {
      if (Clock::now() > deadline) Die("namespace " + name + " could not be created");
      (void)client.Create(
          resources::Namespaces(), "",
          {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
      std::this_thread::sleep_for(200ms);
    }
  }
}

double Populate(KubeClient& client, int cluster, int services, int endpoints,
                const nlohmann::json& labels, int namespaces) {
  const auto start = Clock::now();
  CreateBenchNamespaces(client, namespaces);
  const std::string node = FirstNode(client);
  // Creation is bound by the API server's CPU (admission, etcd): a few
  // requests in flight keep it busy without queueing behind each other.
  Parallel(services, 6, [&](int i) {
    CreateObject(client, resources::Services(), ServiceObject(i, labels, namespaces));
    CreateObject(client, resources::EndpointSlices(),
                 SliceObject(cluster, i, endpoints, node, namespaces));
  });
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::fprintf(stderr, "%s: %s: %d services + slices created in %.1f s (%.0f/s, %s)\n",
               program_invocation_short_name, ClusterName(cluster).c_str(), services, seconds,
               2 * services / seconds, LoadAverage().c_str());
  return seconds;
}

void DeleteObject(KubeClient& client, const kube::ResourceType& type,
                  std::string_view namespace_name, std::string_view name) {
  auto status = Retrying([&] { return client.Delete(type, namespace_name, name); });
  if (!status.ok() && status.error().code != ErrorCode::kNotFound) {
    std::fprintf(stderr, "%s: delete %s: %s\n", program_invocation_short_name,
                 std::string(name).c_str(), status.error().message.c_str());
  }
}

namespace {

std::vector<std::string> BenchNamespaces(KubeClient& client) {
  auto listed =
      Must(Retrying([&] { return client.List(resources::Namespaces(), ""); }), "list namespaces");
  std::vector<std::string> names;
  for (const auto& item : listed.items) {
    const std::string name = item["metadata"].value("name", "");
    if (name == "bench" || name.starts_with("bench-")) names.push_back(name);
  }
  return names;
}

}  // namespace

void DeleteNamespaceAndWait(KubeClient& client) {
  for (const auto& name : BenchNamespaces(client))
    DeleteObject(client, resources::Namespaces(), "", name);
  const auto deadline = Clock::now() + 300s;
  while (Clock::now() < deadline) {
    if (BenchNamespaces(client).empty()) return;
    std::this_thread::sleep_for(500ms);
  }
  Die("the bench namespaces were not deleted within 300 s");
}

void DeleteBenchEntries(KubeClient& client) {
  // ServiceEntries, and the WorkloadEntries of the other shape, that a run
  // which could not clean up (killed, crashed) left.
  for (const auto* type : {&resources::ServiceEntries(), &resources::WorkloadEntries()}) {
    // Listing 10,000 entries can time out on a busy API server: retry it like
    // any transient error instead of losing the run.
    auto listed = client.List(*type, "");
    for (int attempt = 1; !listed.ok() && listed.error().retryable() && attempt <= 5; ++attempt) {
      std::this_thread::sleep_for(std::chrono::seconds(2 * attempt));
      listed = client.List(*type, "");
    }
    auto entries = Must(std::move(listed), "list " + type->plural);
    std::vector<std::pair<std::string, std::string>> keys;  // namespace, name
    for (const auto& item : entries.items) {
      const std::string name = item["metadata"]["name"];
      if (name.rfind("autogen.bench", 0) == 0 || name.rfind("floor.", 0) == 0) {
        keys.emplace_back(item["metadata"]["namespace"], name);
      }
    }
    Parallel(static_cast<int>(keys.size()), 16, [&](int i) {
      const auto& [ns, name] = keys[static_cast<std::size_t>(i)];
      DeleteObject(client, *type, ns, name);
    });
  }
}

void ConnectRemote(KubeClient& local, const fs::path& testbed, const std::string& remote) {
  const std::string kubeconfig = ReadFile(testbed / remote / "kubeconfig");
  nlohmann::json secret = {{"apiVersion", "v1"},
                           {"kind", "Secret"},
                           {"metadata",
                            {{"name", "globalsvc-remote-" + remote},
                             {"namespace", "istio-system"},
                             {"labels", {{"globalsvc.solo.io/remote-cluster", "true"}}}}},
                           {"stringData", {{remote, kubeconfig}}}};
  kube::ApplyOptions apply;
  apply.field_manager = "bench";
  apply.force = true;
  Must(local.Apply(resources::Secrets(), "istio-system", secret, apply), "remote secret");
}

void DisconnectRemote(KubeClient& local, const std::string& remote) {
  DeleteObject(local, resources::Secrets(), "istio-system", "globalsvc-remote-" + remote);
}

void InstallCrds(KubeClient& client) {
  const kube::ResourceType crds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
  for (const auto& file : fs::directory_iterator(fs::path(GLOBALSVC_SOURCE_DIR) / "crds")) {
    auto documents = Must(ParseYamlDocuments(ReadFile(file.path())), file.path().string());
    for (const auto& crd : documents) {
      if (!crd.is_object()) continue;
      ApplyObject(client, crds, crd, "");
    }
  }
  const kube::ResourceType global_services{"globalsvc.io", "v1alpha1", "globalservices", true};
  const auto deadline = Clock::now() + 60s;
  while (!client.List(global_services, "istio-system").ok()) {
    if (Clock::now() > deadline) Die("the GlobalService CRD was not served within 60 s");
    std::this_thread::sleep_for(200ms);
  }
}

}  // namespace globalsvc::bench
