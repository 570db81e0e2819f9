// The generated world on the test bed: clients of its clusters, and the
// selector-less Services with hand-made EndpointSlices that every benchmark
// creates in namespace "bench" (10,000 services need no pods).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "lib/kube/kube_client.h"

namespace globalsvc::bench {

using kube::KubeClient;

std::string ClusterName(int c);  // "cluster<c>", 1-based

// Calls `call` again while it fails with a transient error (a connection the
// server closed while idle, a busy server's timeout), up to 5 times.
template <typename Call>
auto Retrying(Call call) {
  auto result = call();
  for (int attempt = 0; !result.ok() && result.error().retryable() && attempt < 5; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
    result = call();
  }
  return result;
}
std::string ReadFile(const std::filesystem::path& path);
// A value of the test bed's <cluster>/cluster.env ("" when absent).
std::string ClusterEnv(const std::filesystem::path& testbed, const std::string& cluster,
                       const std::string& key);

// A client of one test-bed cluster with no rate limit: the load generator
// must not be the bottleneck.
std::unique_ptr<KubeClient> Connect(const std::filesystem::path& testbed,
                                    const std::string& cluster);

// The address of endpoint `index` in cluster `cluster`: 10.(200+cluster).x.y.
std::string Ip(int cluster, int index);

// {"solo.io/service-scope": scope}: how globalsvc is told a service is global.
nlohmann::json ScopeLabels(const std::string& scope);

// The namespace of service i in a world spread over `namespaces`: "bench"
// for one, "bench-<i % namespaces>" for more.
std::string BenchNamespace(int i, int namespaces = 1);
// The bench namespaces of a world spread over `namespaces`, created in one
// cluster (waiting out any still terminating from an earlier run).
void CreateBenchNamespaces(KubeClient& client, int namespaces = 1);

nlohmann::json ServiceObject(int i, const nlohmann::json& labels, int namespaces = 1);
nlohmann::json SliceObject(int cluster, int i, int endpoints, const std::string& node,
                           int namespaces = 1);

// Runs fn(i) for i in [0, n) on `threads` threads.
void Parallel(int n, int threads, const std::function<void(int)>& fn);

// Server-side apply by field manager "bench", forced, retried on transient
// errors; dies on any other failure.
void ApplyObject(KubeClient& client, const kube::ResourceType& type, const nlohmann::json& object,
                 std::string_view namespace_name = "bench");
// A plain create, retried on transient errors; an object already there is fine.
void CreateObject(KubeClient& client, const kube::ResourceType& type, const nlohmann::json& object);

std::string FirstNode(KubeClient& client);

// Creates N services labelled `labels` with E endpoints each in one cluster,
// spread over `namespaces`; returns the seconds it took.
double Populate(KubeClient& client, int cluster, int services, int endpoints,
                const nlohmann::json& labels, int namespaces = 1);

// Why cluster `cluster`'s "bench" namespace is not the world of N services
// with E endpoints each that Populate makes ("" when it is), so that a run
// reusing the world fails at once instead of waiting for a total it cannot reach.
std::string WorldMismatch(KubeClient& client, int cluster, int services, int endpoints);

// A delete retried on transient errors (an idle connection the server closed
// fails once); an object already gone is fine, any other error is printed.
void DeleteObject(KubeClient& client, const kube::ResourceType& type,
                  std::string_view namespace_name, std::string_view name);
// Deletes every bench namespace ("bench", "bench-<k>") and waits until they are gone.
void DeleteNamespaceAndWait(KubeClient& client);

// Deletes the ServiceEntries and WorkloadEntries globalsvc wrote for bench
// services (and the floor's) in cluster1.
void DeleteBenchEntries(KubeClient& client);

// globalsvc's remote Secret for `remote` in cluster1 (the test bed's
// kubeconfig, credentials inline).
void ConnectRemote(KubeClient& local, const std::filesystem::path& testbed,
                   const std::string& remote);
void DisconnectRemote(KubeClient& local, const std::string& remote);

// globalsvc's own CRDs (GlobalService and RemoteCluster status) in cluster1,
// so the controller runs as installed, status writes included.
void InstallCrds(KubeClient& client);

}  // namespace globalsvc::bench
