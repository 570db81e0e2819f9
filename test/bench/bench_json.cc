// JSON parsing of Kubernetes objects, one thread: the parser of our own
// (lib/kube/json_parser.h) against nlohmann::json::parse, with and without a
// parse callback that drops metadata.managedFields, on the same texts in the
// same run.
//
//   bench_json [--endpoints E] [--rounds R] [--mib M]
//
// Inputs, made of generated EndpointSlices (test/bench/endpoint_slice.h):
// - watch events: 1000 distinct {"type":"MODIFIED","object":{...}} lines;
// - a list page: {"kind":"EndpointSliceList",...,"items":[500 slices]}.
// Variants:
// - custom, strip + parse: what WatchDecoder does (FindManagedFields, a copy
//   without the span, ParseJson); events only;
// - custom, pre-stripped: ParseJson on text that never held managedFields;
// - custom, raw: ParseJson on the full text (what KubeClient does with pages);
// - nlohmann + callback: json::parse(raw, drop managedFields, false);
// - nlohmann: json::parse(raw, nullptr, false).
// Prints, per variant: thread CPU per MiB of raw text and objects per CPU
// second (median of R rounds of M MiB each), the heap peak of one parse (one
// event or one page, result included), and ratios to the custom parser's path
// in the code (strip + parse for events, raw for pages). Exits 1 unless every
// variant yields the same value once managedFields is removed.

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "lib/kube/json_parser.h"
#include "lib/kube/watch_decoder.h"
#include "test/bench/endpoint_slice.h"
#include "test/bench/thread_cpu.h"

namespace {

// Heap accounting for the peak figure. It is on only for an untimed parse; the
// timed rounds pay one untaken branch per allocation. One thread only.
bool tracking = false;
long long live_bytes = 0;
long long peak_bytes = 0;

}  // namespace

void* operator new(std::size_t size) {
  void* block = std::malloc(size == 0 ? 1 : size);
  if (block == nullptr) throw std::bad_alloc();
  if (tracking) {
    live_bytes += static_cast<long long>(malloc_usable_size(block));
    peak_bytes = std::max(peak_bytes, live_bytes);
  }
  return block;
}

void operator delete(void* block) noexcept {
  if (tracking && block != nullptr) live_bytes -= static_cast<long long>(malloc_usable_size(block));
  std::free(block);
}

void operator delete(void* block, std::size_t /*size*/) noexcept {
  operator delete(block);
}

namespace {

using globalsvc::bench::EndpointSlice;
using globalsvc::kube::FindManagedFields;
using globalsvc::kube::ParseJson;
using nlohmann::json;

using globalsvc::bench::ThreadCpuSeconds;

enum Variant : std::size_t {
  kStripParse,
  kCustomStripped,
  kCustomRaw,
  kNlohmannCallback,
  kNlohmann,
  kVariants
};
constexpr const char* kNames[kVariants] = {"custom, strip + parse (WatchDecoder)",
                                           "custom, pre-stripped text", "custom, raw text",
                                           "nlohmann + callback, raw text", "nlohmann, raw text"};
// Variants whose result has no managedFields without further work.
constexpr bool kDrops[kVariants] = {true, true, false, true, false};

struct Input {
  bool events = true;  // watch events, else a list page
  int objects_per_text = 1;
  std::vector<std::string> raw;       // as an API server sends them
  std::vector<std::string> stripped;  // the same without managedFields
  std::size_t raw_bytes = 0;
  std::size_t stripped_bytes = 0;
  // nlohmann's depth of a key of an object's metadata: the containers open
  // around it (event, object, metadata; page, items, item, metadata).
  int metadata_depth = 3;
};

json WithoutManagedFields(json value, bool events) {
  if (!value.is_object()) return value;  // a failed parse, reported by the caller
  if (events) {
    value["object"]["metadata"].erase("managedFields");
  } else {
    for (auto& item : value["items"])
      item["metadata"].erase("managedFields");
  }
  return value;
}

Input MakeInput(bool events, int endpoints) {
  Input input;
  input.events = events;
  input.metadata_depth = events ? 3 : 4;
  const auto add = [&input](const json& value) {
    input.raw.push_back(value.dump());
    input.stripped.push_back(WithoutManagedFields(value, input.events).dump());
    input.raw_bytes += input.raw.back().size();
    input.stripped_bytes += input.stripped.back().size();
  };
  if (events) {
    for (int i = 0; i < 1000; ++i)
      add({{"type", "MODIFIED"}, {"object", EndpointSlice(i, endpoints)}});
    return input;
  }
  input.objects_per_text = 500;
  json page = {{"kind", "EndpointSliceList"},
               {"apiVersion", "discovery.k8s.io/v1"},
               {"metadata", {{"resourceVersion", "1234567"}, {"continue", "eyJ2IjoibWV0YSJ9"}}},
               {"items", json::array()}};
  for (int i = 0; i < input.objects_per_text; ++i)
    page["items"].push_back(EndpointSlice(i, endpoints));
  add(page);
  return input;
}

// The watch decoder's path: the managedFields span cut out of a copy (into a
// reused buffer, as the decoder does), then parsed.
json StripAndParse(std::string_view text) {
  static std::string scratch;
  if (const auto span = FindManagedFields(text)) {
    scratch.assign(text.substr(0, span->first));
    scratch.append(text.substr(span->second));
    text = scratch;
  }
  auto parsed = ParseJson(text);
  return parsed ? std::move(*parsed) : json(json::value_t::discarded);
}

json Parse(Variant variant, const Input& input, std::size_t i) {
  const std::string& raw = input.raw[i];
  switch (variant) {
    case kStripParse:
      return StripAndParse(raw);
    case kCustomStripped:
    case kCustomRaw: {
      auto parsed = ParseJson(variant == kCustomRaw ? raw : input.stripped[i]);
      return parsed ? std::move(*parsed) : json(json::value_t::discarded);
    }
    case kNlohmannCallback: {
      // Drops the key and its value: what follows the key is still tokenised,
      // but nothing of it is kept.
      const int metadata_depth = input.metadata_depth;
      return json::parse(
          raw,
          [metadata_depth](int depth, json::parse_event_t event, json& parsed) {
            return event != json::parse_event_t::key || depth != metadata_depth ||
                   parsed.get_ref<const std::string&>() != "managedFields";
          },
          /*allow_exceptions=*/false);
    }
    default:
      return json::parse(raw, nullptr, /*allow_exceptions=*/false);
  }
}

// Every text through every variant, against nlohmann's value without
// managedFields. The variants that drop it are compared as they come.
bool AllEqual(const Input& input) {
  for (std::size_t i = 0; i < input.raw.size(); ++i) {
    const json expected =
        WithoutManagedFields(json::parse(input.raw[i], nullptr, false), input.events);
    for (std::size_t v = 0; v < kVariants; ++v) {
      if (v == kStripParse && !input.events) continue;
      json got = Parse(static_cast<Variant>(v), input, i);
      if (!kDrops[v]) got = WithoutManagedFields(std::move(got), input.events);
      if (expected.is_discarded() || got.is_discarded() || got != expected) {
        std::fprintf(stderr, "%s: text %zu differs\n", kNames[v], i);
        return false;
      }
    }
  }
  return true;
}

struct Figures {
  double cpu_ms_per_mib = 0;
  double objects_per_s = 0;
  double heap_peak_bytes = 0;
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Heap peak of parsing the first text, the result held until the end.
double HeapPeak(Variant variant, const Input& input) {
  live_bytes = peak_bytes = 0;
  tracking = true;
  { const json result = Parse(variant, input, 0); }
  tracking = false;
  return static_cast<double>(peak_bytes);
}

std::vector<Figures> Measure(const Input& input, int rounds, double mib) {
  std::vector<std::vector<double>> cpu(kVariants), rate(kVariants);
  const double target_bytes = mib * (1 << 20);
  for (int r = 0; r < rounds; ++r) {
    // Variants take turns within a round, so a slow spell of the machine
    // lands on all of them.
    for (std::size_t v = 0; v < kVariants; ++v) {
      if (v == kStripParse && !input.events) continue;
      std::size_t bytes = 0, objects = 0, checksum = 0;
      const double start = ThreadCpuSeconds();
      for (std::size_t i = 0; static_cast<double>(bytes) < target_bytes;
           i = (i + 1) % input.raw.size()) {
        checksum += Parse(static_cast<Variant>(v), input, i).size();
        bytes += input.raw[i].size();
        objects += static_cast<std::size_t>(input.objects_per_text);
      }
      const double seconds = ThreadCpuSeconds() - start;
      if (checksum == 0) std::fprintf(stderr, "%s: empty results\n", kNames[v]);
      cpu[v].push_back(seconds * 1000 / (static_cast<double>(bytes) / (1 << 20)));
      rate[v].push_back(static_cast<double>(objects) / seconds);
    }
  }
  std::vector<Figures> figures(kVariants);
  for (std::size_t v = 0; v < kVariants; ++v) {
    if (cpu[v].empty()) continue;
    figures[v] = {Median(cpu[v]), Median(rate[v]), HeapPeak(static_cast<Variant>(v), input)};
  }
  return figures;
}

void Report(const Input& input, int endpoints, int rounds, double mib) {
  if (!AllEqual(input)) std::exit(1);
  const auto figures = Measure(input, rounds, mib);
  const auto texts = static_cast<double>(input.raw.size());
  std::printf(
      "json parse, %s: endpoints/slice=%d objects/text=%d raw_bytes/text=%.0f "
      "stripped_bytes/text=%.0f rounds=%d MiB/round=%.0f\n",
      input.events ? "watch event" : "list page", endpoints, input.objects_per_text,
      static_cast<double>(input.raw_bytes) / texts,
      static_cast<double>(input.stripped_bytes) / texts, rounds, mib);
  const Figures& base = figures[input.events ? kStripParse : kCustomRaw];
  for (std::size_t v = 0; v < kVariants; ++v) {
    const Figures& f = figures[v];
    if (f.cpu_ms_per_mib == 0) continue;
    std::printf(
        "  %-38s cpu_ms_per_MiB=%7.2f objects_per_s=%9.0f heap_peak_KiB=%9.1f  "
        "(%.2fx CPU, %.2fx heap peak)\n",
        kNames[v], f.cpu_ms_per_mib, f.objects_per_s, f.heap_peak_bytes / 1024,
        f.cpu_ms_per_mib / base.cpu_ms_per_mib, f.heap_peak_bytes / base.heap_peak_bytes);
  }
  std::printf("  nlohmann+callback / custom = %.2fx CPU, %.2fx heap peak\n",
              figures[kNlohmannCallback].cpu_ms_per_mib / base.cpu_ms_per_mib,
              figures[kNlohmannCallback].heap_peak_bytes / base.heap_peak_bytes);
  std::printf("  nlohmann / custom, both on raw text = %.2fx CPU\n",
              figures[kNlohmann].cpu_ms_per_mib / figures[kCustomRaw].cpu_ms_per_mib);
  std::printf("  values equal after managedFields removal: yes (%zu texts, every variant)\n",
              input.raw.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> endpoint_counts = {1, 5, 20};
  int rounds = 5;
  double mib = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--endpoints") == 0) endpoint_counts = {std::atoi(argv[i + 1])};
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--mib") == 0) mib = std::atof(argv[i + 1]);
  }
  for (const bool events : {true, false}) {
    for (const int endpoints : endpoint_counts)
      Report(MakeInput(events, endpoints), endpoints, rounds, mib);
  }
  return 0;
}
