#include "test/bench/support/watchers.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "test/bench/support/process.h"
#include "test/bench/support/report.h"
#include "test/bench/support/world.h"

namespace globalsvc::bench {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace resources = kube::resources;

namespace {

using SeenMap = std::map<std::string, std::pair<int, SteadyTime>>;

// Waits until `seen[key]` holds `value`; returns when it was first seen so.
std::optional<SteadyTime> WaitForValue(std::mutex& mutex, std::condition_variable& changed,
                                       SeenMap& seen, const std::string& key, int value,
                                       std::chrono::seconds timeout) {
  std::unique_lock lock(mutex);
  const bool ok = changed.wait_for(lock, timeout, [&] {
    auto it = seen.find(key);
    return it != seen.end() && it->second.first == value;
  });
  if (!ok) return std::nullopt;
  return seen[key].second;
}

}  // namespace

EntryWatcher::EntryWatcher(kube::KubeClient& client, const std::string& shape)
    : client_(client), workload_entries_(shape == "workload-entries") {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

std::optional<SteadyTime> EntryWatcher::WaitFor(const std::string& name, int weight,
                                                std::chrono::seconds timeout) {
  return WaitForValue(mutex_, changed_, seen_, name, weight, timeout);
}

std::size_t EntryWatcher::CountWithWeight(int weight) {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(
      seen_.begin(), seen_.end(), [&](const auto& entry) { return entry.second.first == weight; }));
}

void EntryWatcher::Run(std::stop_token stop) {
  const auto& type = workload_entries_ ? resources::WorkloadEntries() : resources::ServiceEntries();
  // A service only remote clusters have keeps its objects in istio-system.
  const std::string ns = workload_entries_ ? "" : "istio-system";
  while (!stop.stop_requested()) {
    auto list = client_.List(type, ns);
    if (!list.ok()) continue;
    {
      std::lock_guard lock(mutex_);
      workloads_.clear();
    }
    for (const auto& item : list->items)
      Record(item, false, Clock::now());
    kube::WatchOptions options;
    options.resource_version = list->resource_version;
    options.timeout = 600s;
    (void)client_.Watch(
        type, ns, options,
        [&](kube::WatchEvent&& event) {
          Record(event.object, event.type == kube::WatchEventType::kDeleted, Clock::now());
          return true;
        },
        stop);
  }
}

void EntryWatcher::Record(const nlohmann::json& object, bool deleted, SteadyTime when) {
  if (!object.contains("metadata")) return;
  const std::string name = object["metadata"].value("name", "");
  if (name.rfind("autogen.bench", 0) != 0) return;  // namespace bench or bench-<k>
  if (workload_entries_) {
    const auto labels = object["metadata"].value("labels", nlohmann::json::object());
    const std::string entry = "autogen." + labels.value("solo.io/parent-service-namespace", "") +
                              "." + labels.value("solo.io/parent-service", "");
    const int weight = object.contains("spec") ? object["spec"].value("weight", 1) : 1;
    {
      std::lock_guard lock(mutex_);
      auto& members = workloads_[entry];
      if (deleted) {
        members.erase(name);
      } else {
        members[name] = weight;
      }
      int total = 0;
      for (const auto& [member, w] : members)
        total += w;
      seen_[entry] = {total, when};
    }
    changed_.notify_all();
    return;
  }
  int weight = 0;
  if (object.contains("spec")) {
    for (const auto& e : object["spec"].value("endpoints", nlohmann::json::array()))
      weight += e.value("weight", 1);
  }
  {
    std::lock_guard lock(mutex_);
    seen_[name] = {deleted ? 0 : weight, when};
  }
  changed_.notify_all();
}

AmbientWatcher::AmbientWatcher(int istiod_port) : port_(istiod_port) {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

std::optional<SteadyTime> AmbientWatcher::WaitFor(const std::string& host, int capacity,
                                                  std::chrono::seconds timeout) {
  return WaitForValue(mutex_, changed_, seen_, host, capacity, timeout);
}

std::size_t AmbientWatcher::CountLocked(const std::string& suffix, int capacity) const {
  return static_cast<std::size_t>(std::count_if(seen_.begin(), seen_.end(), [&](const auto& entry) {
    return entry.second.first == capacity && entry.first.ends_with(suffix);
  }));
}

std::optional<SteadyTime> AmbientWatcher::WaitForAll(std::size_t hosts, const std::string& suffix,
                                                     int capacity, std::chrono::seconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return CountLocked(suffix, capacity) >= hosts; })) {
    return std::nullopt;
  }
  SteadyTime last{};
  for (const auto& [host, seen] : seen_) {
    if (seen.first == capacity && host.ends_with(suffix)) last = std::max(last, seen.second);
  }
  return last;
}

AmbientViewSize AmbientWatcher::LastViewSize() {
  std::lock_guard lock(mutex_);
  return last_size_;
}

void AmbientWatcher::Run(std::stop_token stop) {
  auto rest = Clock::duration::zero();
  while (!stop.stop_requested()) {
    // Rest as long as the last read took: istiod serialises the whole view
    // for every read (megabytes at 10,000 services), and back-to-back reads
    // would take the CPU it needs to build that view.
    std::this_thread::sleep_for(rest);
    std::unique_lock reading(read_mutex_);
    const auto asked = Clock::now();
    const std::string body = HttpBody(HttpGet(port_, "/debug/ambientz"));
    reading.unlock();
    const auto now = Clock::now();
    rest = now - asked;
    const auto view = nlohmann::json::parse(body, nullptr, false);
    const auto workloads = view.is_object() ? view.find("workloads") : view.end();
    if (!view.is_object() || workloads == view.end() || !workloads->is_array()) {
      std::this_thread::sleep_for(50ms);
      continue;
    }
    // Read without throwing: a field of another type counts as absent.
    std::map<std::string, int> capacity;
    AmbientViewSize size;
    for (const auto& workload : *workloads) {
      const auto services = workload.find("services");
      if (services == workload.end() || !services->is_object()) continue;
      const auto declared = workload.find("capacity");
      const int count = declared != workload.end() && declared->is_number_unsigned()
                            ? declared->get<int>()
                            : 1;  // istiod omits the default
      bool bench = false;
      // Keys are "<namespace>/<host>"; a bench host names namespace bench
      // (or bench-<k>) whichever namespace its ServiceEntry lives in.
      for (const auto& [key, ports] : services->items()) {
        const std::string host = key.substr(key.find('/') + 1);
        if (host.find(".bench.") == std::string::npos &&
            host.find(".bench-") == std::string::npos) {
          continue;
        }
        capacity[host] += count;
        bench = true;
      }
      if (!bench) continue;
      ++size.workloads;
      size.bytes += workload.dump().size();
    }
    {
      std::lock_guard lock(mutex_);
      for (const auto& [host, total] : capacity) {
        auto& entry = seen_[host];
        if (entry.first != total) entry = {total, now};
      }
      // A host gone from the view counts as capacity 0.
      for (auto& [host, entry] : seen_) {
        if (!capacity.contains(host) && entry.first != 0) entry = {0, now};
      }
      last_size_ = size;
    }
    ++reads_;
    changed_.notify_all();
  }
}

int IstiodHttpPort(const std::filesystem::path& testbed, const std::string& cluster) {
  const std::string port = ClusterEnv(testbed, cluster, "ISTIOD_HTTP_PORT");
  if (port.empty()) Die(cluster + " of the test bed runs no istiod (up --istio)");
  return std::stoi(port);
}

}  // namespace globalsvc::bench
