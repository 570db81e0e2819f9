// Planner benchmark: N global services x E endpoints x C clusters, planned for
// one target cluster on one thread. Prints input size, plan time, endpoints
// per second, serialisation + hashing time, and memory.
//
//   bench_planner [--services N] [--endpoints E] [--clusters C] [--rounds R]
//
// Clusters 1 and 2 share a network (pods appear one by one); the others are on
// their own networks (pods aggregate behind an east-west gateway), so both
// endpoint paths are exercised.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "lib/base/hash.h"
#include "lib/mesh/planner.h"
#include "lib/mesh/service_entry.h"
#include "test/bench/thread_cpu.h"

namespace {

using globalsvc::mesh::ClusterState;
using Clock = std::chrono::steady_clock;

// CPU time of this thread: robust to other processes sharing the cores.
using globalsvc::bench::ThreadCpuSeconds;

// CPU seconds of the three ways to get from a planned entry to its hash,
// median of 5 rounds each.
struct HashFigures {
  double build = 0;      // ToJson: what the apply body needs anyway
  double hash = 0;       // ContentHash of that JSON, walked in place
  double copy_dump = 0;  // a copy of the JSON dumped to text and hashed
};

template <typename Work>
double MedianCpu(const Work& work) {
  std::vector<double> rounds;
  for (int i = 0; i < 5; ++i) {
    const double start = ThreadCpuSeconds();
    work();
    rounds.push_back(ThreadCpuSeconds() - start);
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[rounds.size() / 2];
}

HashFigures MeasureHashing(const std::vector<globalsvc::mesh::ServiceEntry>& entries) {
  std::vector<nlohmann::json> built(entries.size());
  HashFigures figures;
  figures.build = MedianCpu([&] {
    for (std::size_t i = 0; i < entries.size(); ++i)
      built[i] = globalsvc::mesh::ToJson(entries[i]);
  });
  std::size_t sink = 0;
  figures.hash = MedianCpu([&] {
    for (const auto& object : built)
      sink += globalsvc::mesh::ContentHash(object).size();
  });
  figures.copy_dump = MedianCpu([&] {
    for (const auto& object : built)
      sink += globalsvc::Fnv1a64(nlohmann::json(object).dump()) & 1;
  });
  if (sink == 0) std::puts("(no output)");
  return figures;
}

long RssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

std::vector<ClusterState> MakeClusters(int services, int endpoints, int clusters) {
  std::vector<ClusterState> states;
  for (int c = 0; c < clusters; ++c) {
    const std::string network = c < 2 ? "shared-network" : "network-" + std::to_string(c);
    const std::string region = "region-" + std::to_string(c);
    ClusterState state("cluster" + std::to_string(c + 1), network);
    for (int n = 0; n < 20; ++n) {
      state.UpsertNode(
          {"node-" + std::to_string(n), region, region + "-z" + std::to_string(n % 3), ""});
    }
    state.UpsertGateway({"istio-eastwestgateway", network, region, region + "-z0", ""});
    for (int s = 0; s < services; ++s) {
      globalsvc::mesh::Service service;
      service.namespace_name = "ns" + std::to_string(s % 50);
      service.name = "svc" + std::to_string(s);
      service.scope_label = "global";
      service.ports = {{"http", 80, "TCP", "", 8080}, {"grpc", 9090, "TCP", "grpc", 9090}};
      service.creation_timestamp = 1000 + c;
      globalsvc::mesh::EndpointSlice slice;
      slice.namespace_name = service.namespace_name;
      slice.service_name = service.name;
      slice.name = service.name + "-abcde";
      slice.ports = {{"http", 8080, "TCP"}, {"grpc", 9090, "TCP"}};
      for (int e = 0; e < endpoints; ++e) {
        const int index = s * endpoints + e;
        globalsvc::mesh::Endpoint endpoint;
        endpoint.address = "10." + std::to_string(c * 64 + index / 65536) + "." +
                           std::to_string((index / 256) % 256) + "." + std::to_string(index % 256);
        endpoint.conditions.ready = true;
        endpoint.node_name = "node-" + std::to_string(index % 20);
        slice.endpoints.push_back(std::move(endpoint));
      }
      state.UpsertService(std::move(service));
      state.UpsertEndpointSlice(std::move(slice));
    }
    states.push_back(std::move(state));
  }
  return states;
}

int Flag(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int services = Flag(argc, argv, "--services", 10000);
  const int endpoints = Flag(argc, argv, "--endpoints", 10);
  const int cluster_count = Flag(argc, argv, "--clusters", 3);
  const int rounds = std::max(1, Flag(argc, argv, "--rounds", 5));

  const long rss_start = RssKiB();
  const auto states = MakeClusters(services, endpoints, cluster_count);
  const long rss_input = RssKiB();
  std::vector<const ClusterState*> views;
  for (const auto& state : states)
    views.push_back(&state);
  globalsvc::mesh::PlanOptions options;
  options.target_cluster = "cluster1";

  const double total_endpoints = static_cast<double>(services) * endpoints * cluster_count;
  std::vector<double> plan_seconds;
  std::vector<double> plan_cpu_seconds;
  std::size_t planned_endpoints = 0;
  std::size_t entries = 0;
  long rss_plan = 0;
  HashFigures hash_figures;
  for (int round = 0; round < rounds; ++round) {
    const auto start = Clock::now();
    const double cpu_start = ThreadCpuSeconds();
    globalsvc::mesh::Plan plan = globalsvc::mesh::PlanCluster(views, options);
    plan_cpu_seconds.push_back(ThreadCpuSeconds() - cpu_start);
    plan_seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    rss_plan = std::max(rss_plan, RssKiB());
    entries = plan.entries.size();
    planned_endpoints = 0;
    for (const auto& entry : plan.entries)
      planned_endpoints += entry.endpoints.size();
    if (round == 0) hash_figures = MeasureHashing(plan.entries);
  }
  std::sort(plan_seconds.begin(), plan_seconds.end());
  std::sort(plan_cpu_seconds.begin(), plan_cpu_seconds.end());
  const double median = plan_seconds[plan_seconds.size() / 2];
  const double cpu_median = plan_cpu_seconds[plan_cpu_seconds.size() / 2];

  std::printf("planner benchmark (one thread)\n");
  std::printf("  input            %d services x %d endpoints x %d clusters = %.0f endpoints\n",
              services, endpoints, cluster_count, total_endpoints);
  std::printf("  output           %zu ServiceEntries, %zu endpoints in cluster1's plan\n", entries,
              planned_endpoints);
  std::printf("  plan time        wall median %.3f s, best %.3f s; CPU median %.3f s (%d rounds)\n",
              median, plan_seconds.front(), cpu_median, rounds);
  std::printf("  plan rate        %.0f input endpoints per CPU-second (%.0f per wall second)\n",
              total_endpoints / cpu_median, total_endpoints / median);
  std::printf("  JSON + hash      %.3f s CPU for all ServiceEntries (%.0f entries/s)\n",
              hash_figures.build + hash_figures.hash,
              static_cast<double>(entries) / (hash_figures.build + hash_figures.hash));
  std::printf("    hash / building the JSON (floor)            %.2f\n",
              hash_figures.hash / hash_figures.build);
  std::printf("    copy + dump + FNV-1a / building the JSON    %.2f (hashing by text)\n",
              hash_figures.copy_dump / hash_figures.build);
  std::printf(
      "  memory           input %.1f MiB (%.0f bytes/endpoint), peak while planning +%.1f "
      "MiB\n",
      static_cast<double>(rss_input - rss_start) / 1024.0,
      static_cast<double>(rss_input - rss_start) * 1024.0 / total_endpoints,
      static_cast<double>(rss_plan - rss_input) / 1024.0);
  return 0;
}
