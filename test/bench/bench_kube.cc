// lib/kube benchmarks on one thread, with generated EndpointSlices shaped like
// the ones kube-controller-manager writes (labels, owner reference, managed
// fields, per-endpoint conditions, node name, zone and target reference).
//
//   bench_kube [--events N] [--slices N] [--endpoints E]
//
// Prints:
// - watch decode rate: MODIFIED events/s through WatchDecoder (bytes arrive in
//   16 KiB chunks, each event parsed to JSON), alone and with the projection
//   a cache stores;
// - cache memory per EndpointSlice: heap bytes a Cache<EndpointSliceView>
//   holds per slice (entry, projection, a by-service index; the interned
//   strings are shared by all slices and counted too), against the slice's
//   compact JSON size.

#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "lib/base/memory.h"
#include "lib/kube/cache.h"
#include "lib/kube/watch_decoder.h"
#include "test/bench/endpoint_slice.h"
#include "test/bench/string_pool.h"
#include "test/bench/thread_cpu.h"

namespace {

using globalsvc::bench::EndpointSlice;
using globalsvc::kube::Cache;
using globalsvc::kube::WatchDecoder;
using globalsvc::kube::WatchEvent;
using globalsvc::kube::WatchEventType;
using nlohmann::json;

using globalsvc::bench::ThreadCpuSeconds;

std::size_t HeapInUse() {
  return mallinfo2().uordblks;
}

// What a controller keeps of an EndpointSlice: repeated values (node, zone,
// service and port names) are interned.
globalsvc::bench::StringPool pool;

struct EndpointView {
  std::string address;
  std::string_view node_name;
  std::string_view zone;
  bool ready = false;
  bool serving = false;
  bool terminating = false;
  bool operator==(const EndpointView&) const = default;
};
struct PortView {
  std::string_view name;
  int port = 0;
  bool operator==(const PortView&) const = default;
};
struct EndpointSliceView {
  std::string_view service;
  std::vector<EndpointView> endpoints;
  std::vector<PortView> ports;
  bool operator==(const EndpointSliceView&) const = default;
};

EndpointSliceView Project(const json& object) {
  EndpointSliceView view;
  const auto& labels = object["metadata"]["labels"];
  view.service = pool.Intern(labels.value("kubernetes.io/service-name", ""));
  if (const auto endpoints = object.find("endpoints"); endpoints != object.end()) {
    view.endpoints.reserve(endpoints->size());
    for (const auto& endpoint : *endpoints) {
      EndpointView e;
      e.address = endpoint["addresses"][0].get<std::string>();
      e.node_name = pool.Intern(endpoint.value("nodeName", ""));
      e.zone = pool.Intern(endpoint.value("zone", ""));
      const auto& conditions = endpoint["conditions"];
      e.ready = conditions.value("ready", false);
      e.serving = conditions.value("serving", false);
      e.terminating = conditions.value("terminating", false);
      view.endpoints.push_back(std::move(e));
    }
  }
  if (const auto ports = object.find("ports"); ports != object.end()) {
    for (const auto& port : *ports)
      view.ports.push_back({pool.Intern(port.value("name", "")), port.value("port", 0)});
  }
  return view;
}

void BenchDecode(int events, int endpoints) {
  std::string stream;
  for (int i = 0; i < 1000; ++i) {
    stream += json{{"type", "MODIFIED"}, {"object", EndpointSlice(i, endpoints)}}.dump();
    stream += '\n';
  }
  const int rounds = std::max(1, events / 1000);
  for (const bool project : {false, true}) {
    WatchDecoder decoder;
    long decoded = 0;
    std::size_t checksum = 0;
    const double start = ThreadCpuSeconds();
    for (int r = 0; r < rounds; ++r) {
      for (std::size_t offset = 0; offset < stream.size(); offset += 16384) {
        auto fed =
            decoder.Feed(std::string_view(stream).substr(offset, 16384), [&](WatchEvent&& e) {
              ++decoded;
              if (project) checksum += Project(e.object).endpoints.size();
              return true;
            });
        if (!fed.ok()) {
          std::fprintf(stderr, "decode failed: %s\n", fed.error().message.c_str());
          std::exit(1);
        }
      }
    }
    const double seconds = ThreadCpuSeconds() - start;
    std::printf(
        "watch decode%s: endpoints/slice=%d events=%ld event_bytes=%zu cpu_s=%.3f "
        "events_per_s=%.0f MiB_per_s=%.1f%s\n",
        project ? " + projection" : "", endpoints, decoded, stream.size() / 1000, seconds,
        static_cast<double>(decoded) / seconds,
        static_cast<double>(stream.size()) * rounds / seconds / (1 << 20),
        project && checksum == 0 ? " (empty?)" : "");
  }
}

void BenchCacheMemory(int slices, int endpoints) {
  std::vector<json> objects;
  std::size_t json_bytes = 0;
  for (int i = 0; i < slices; ++i) {
    objects.push_back(EndpointSlice(i, endpoints));
    json_bytes += objects.back().dump().size();
  }
  globalsvc::ReturnFreedMemory();
  const std::size_t before = HeapInUse();
  {
    Cache<EndpointSliceView> cache(Project);
    cache.AddIndex("service", [](const EndpointSliceView& v) {
      return std::vector<std::string>{std::string(v.service)};
    });
    cache.BeginReplace();
    for (const auto& object : objects)
      cache.ReplaceItem(json(object));
    cache.EndReplace();
    const std::size_t after = HeapInUse();
    const double per_slice = static_cast<double>(after - before) / slices;
    const double json_per_slice = static_cast<double>(json_bytes) / slices;
    std::printf(
        "cache memory: endpoints/slice=%d slices=%d json_bytes_per_slice=%.0f "
        "cache_bytes_per_slice=%.0f ratio=%.1f%% (goal <= 25%%)\n",
        endpoints, slices, json_per_slice, per_slice, 100.0 * per_slice / json_per_slice);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int events = 100000;
  int slices = 10000;
  std::vector<int> endpoint_counts = {1, 5, 20};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--events") == 0) events = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--slices") == 0) slices = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--endpoints") == 0) endpoint_counts = {std::atoi(argv[i + 1])};
  }
  for (const int endpoints : endpoint_counts)
    BenchDecode(events, endpoints);
  for (const int endpoints : endpoint_counts)
    BenchCacheMemory(slices, endpoints);
  return 0;
}
