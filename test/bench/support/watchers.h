// What the benchmarks wait for: the objects globalsvc writes in cluster1
// (EntryWatcher, a watch) and what cluster1's istiod makes of them, its
// ambient view (AmbientWatcher, polling /debug/ambientz).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "lib/kube/kube_client.h"

namespace globalsvc::bench {

using SteadyTime = std::chrono::steady_clock::time_point;

// Watches what the controller writes in cluster1 and records, per
// ServiceEntry name, the last total weight of its endpoints (1 for an
// endpoint without a weight) and when it was seen: the sum of every
// cluster's endpoints once all are read. Inline: the ServiceEntries of
// istio-system; workload-entries: the WorkloadEntries of every namespace,
// summed per service.
class EntryWatcher {
 public:
  EntryWatcher(kube::KubeClient& client, const std::string& shape);

  // Waits until `name` shows `weight`; returns when it was seen.
  std::optional<SteadyTime> WaitFor(const std::string& name, int weight,
                                    std::chrono::seconds timeout);
  std::size_t CountWithWeight(int weight);

 private:
  void Run(std::stop_token stop);
  void Record(const nlohmann::json& object, bool deleted, SteadyTime when);

  kube::KubeClient& client_;
  const bool workload_entries_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::pair<int, SteadyTime>> seen_;
  // workload-entries: ServiceEntry name -> WorkloadEntry name -> weight.
  std::map<std::string, std::map<std::string, int>> workloads_;
  std::jthread thread_;
};

// What one read of istiod's ambient view held for the bench namespace: the
// Workloads ztunnel would receive for bench services, and their size as
// istiod's debug JSON prints them.
struct AmbientViewSize {
  std::size_t workloads = 0;
  std::size_t bytes = 0;
};

// istiod's view of the bench services: polls /debug/ambientz of an istiod and
// keeps, per bench host, the total capacity of the workloads that carry it
// (what ztunnel would receive) and when that total was first seen.
class AmbientWatcher {
 public:
  explicit AmbientWatcher(int istiod_port);

  std::optional<SteadyTime> WaitFor(const std::string& host, int capacity,
                                    std::chrono::seconds timeout);
  // Waits until `hosts` bench hosts ending in `suffix` each show `capacity`.
  std::optional<SteadyTime> WaitForAll(std::size_t hosts, const std::string& suffix, int capacity,
                                       std::chrono::seconds timeout);
  AmbientViewSize LastViewSize();
  // No read of the view until the returned lock is released; returns once
  // the read in flight has ended. A read makes istiod build megabytes of
  // JSON at scale, which would count as its memory.
  [[nodiscard]] std::unique_lock<std::mutex> Pause() { return std::unique_lock(read_mutex_); }
  // Complete reads of the view so far: each costs istiod CPU of its own.
  [[nodiscard]] long Reads() const { return reads_.load(); }

 private:
  void Run(std::stop_token stop);
  [[nodiscard]] std::size_t CountLocked(const std::string& suffix, int capacity) const;

  int port_;
  std::mutex read_mutex_;  // held for each read of the view
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::pair<int, SteadyTime>> seen_;
  AmbientViewSize last_size_;
  std::atomic<long> reads_{0};
  std::jthread thread_;
};

// The port of cluster `cluster`'s istiod debug endpoint, from the test bed's
// cluster.env (dies when the cluster runs no istiod).
int IstiodHttpPort(const std::filesystem::path& testbed, const std::string& cluster);

}  // namespace globalsvc::bench
