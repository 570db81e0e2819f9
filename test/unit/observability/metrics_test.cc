#include "lib/observability/metrics.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace globalsvc::obs {
namespace {

TEST_CASE("Counters and gauges render with escaped help and label values", "[observability]") {
  Registry registry;
  auto& gauge = registry.AddGauge("test_temperature_celsius", "Temperature.");
  auto& counter = registry.AddCounter(
      "test_requests_total", "Requests by code.\nSecond line with \\ backslash and \"quotes\".",
      {"code", "path"});
  counter.Inc({"200", "/a"});
  counter.Inc({"200", "/a"}, 2);
  counter.Inc({"500", "quote\" back\\ nl\n"});
  counter.Inc({"200", "/"}, 0.5);
  gauge.Set(-1.5);

  CHECK(registry.Render() ==
        "# HELP test_requests_total Requests by code.\\nSecond line with \\\\ backslash and "
        "\"quotes\".\n"
        "# TYPE test_requests_total counter\n"
        "test_requests_total{code=\"200\",path=\"/\"} 0.5\n"
        "test_requests_total{code=\"200\",path=\"/a\"} 3\n"
        "test_requests_total{code=\"500\",path=\"quote\\\" back\\\\ nl\\n\"} 1\n"
        "# HELP test_temperature_celsius Temperature.\n"
        "# TYPE test_temperature_celsius gauge\n"
        "test_temperature_celsius -1.5\n");
  CHECK(counter.Value({"200", "/a"}) == 3);
  CHECK(counter.Value({"404", "/a"}) == 0);
  CHECK(gauge.Value() == -1.5);
}

TEST_CASE("Histograms render cumulative buckets, +Inf, sum and count", "[observability]") {
  Registry registry;
  // Unsorted, duplicated and infinite bounds are normalised.
  auto& histogram =
      registry.AddHistogram("test_latency_seconds", "Latency.",
                            {1, 0.25, 0.5, 0.25, std::numeric_limits<double>::infinity()}, {"op"});
  auto& plain = registry.AddHistogram("test_size_bytes", "Sizes.", {1024});
  for (const double v : {0.125, 0.25, 0.75, 8.0})
    histogram.Observe(v, {"get"});
  histogram.Observe(0.5, {"delete"});
  plain.Observe(2048);

  CHECK(histogram.buckets() == std::vector<double>{0.25, 0.5, 1});
  CHECK(histogram.Count({"get"}) == 4);
  CHECK(histogram.Sum({"get"}) == 9.125);
  CHECK(histogram.Count({"put"}) == 0);
  CHECK(registry.Render() ==
        "# HELP test_latency_seconds Latency.\n"
        "# TYPE test_latency_seconds histogram\n"
        "test_latency_seconds_bucket{op=\"delete\",le=\"0.25\"} 0\n"
        "test_latency_seconds_bucket{op=\"delete\",le=\"0.5\"} 1\n"
        "test_latency_seconds_bucket{op=\"delete\",le=\"1\"} 1\n"
        "test_latency_seconds_bucket{op=\"delete\",le=\"+Inf\"} 1\n"
        "test_latency_seconds_sum{op=\"delete\"} 0.5\n"
        "test_latency_seconds_count{op=\"delete\"} 1\n"
        "test_latency_seconds_bucket{op=\"get\",le=\"0.25\"} 2\n"
        "test_latency_seconds_bucket{op=\"get\",le=\"0.5\"} 2\n"
        "test_latency_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
        "test_latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
        "test_latency_seconds_sum{op=\"get\"} 9.125\n"
        "test_latency_seconds_count{op=\"get\"} 4\n"
        "# HELP test_size_bytes Sizes.\n"
        "# TYPE test_size_bytes histogram\n"
        "test_size_bytes_bucket{le=\"1024\"} 0\n"
        "test_size_bytes_bucket{le=\"+Inf\"} 1\n"
        "test_size_bytes_sum 2048\n"
        "test_size_bytes_count 1\n");
}

TEST_CASE("Families sort by name - unlabelled ones show 0, labelled ones wait for a series",
          "[observability]") {
  Registry registry;
  auto& b = registry.AddCounter("test_b_total", "B.");
  registry.AddGauge("test_a", "A.");
  auto& labelled = registry.AddGauge("test_c", "C.", {"cluster"});
  static_cast<void>(b);
  CHECK(registry.Render() ==
        "# HELP test_a A.\n# TYPE test_a gauge\ntest_a 0\n"
        "# HELP test_b_total B.\n# TYPE test_b_total counter\ntest_b_total 0\n");

  labelled.Set(2, {"west"});
  labelled.Add(1, {"east"});
  labelled.Add(1, {"east"});
  CHECK(registry.Render().ends_with(
      "# TYPE test_c gauge\ntest_c{cluster=\"east\"} 2\ntest_c{cluster=\"west\"} 2\n"));
  labelled.Remove({"east"});
  labelled.Remove({"never-set"});
  CHECK(registry.Render().ends_with("# TYPE test_c gauge\ntest_c{cluster=\"west\"} 2\n"));
  labelled.Remove({"west"});
  CHECK(registry.Render().find("test_c") == std::string::npos);
}

TEST_CASE("Misuse is ignored and counted, never a crash", "[observability]") {
  Registry registry;
  auto& counter = registry.AddCounter("test_events_total", "Events.", {"kind"});
  counter.Inc();                     // too few label values
  counter.Inc({"a", "b"});           // too many
  counter.Inc({"a"}, -1);            // counters never go down
  counter.Inc({"a"}, std::nan(""));  // nor become NaN
  CHECK(counter.Value({"a"}) == 0);
  CHECK(counter.Value() == 0);  // a read with the wrong arity counts too

  auto& histogram = registry.AddHistogram("test_h", "H.", {1});
  histogram.Observe(std::nan(""));
  CHECK(histogram.Count() == 0);

  SECTION("a conflicting registration gets a working, unrendered metric") {
    auto& again = registry.AddCounter("test_events_total", "Events.", {"kind"});
    CHECK(&again == &counter);  // identical: the same metric
    auto& other_labels = registry.AddCounter("test_events_total", "Events.", {"reason"});
    CHECK(&other_labels != &counter);
    other_labels.Inc({"x"});
    CHECK(other_labels.Value({"x"}) == 1);
    auto& other_kind = registry.AddGauge("test_events_total", "Events.", {"kind"});
    other_kind.Set(1, {"x"});
    registry.AddCounter("test_h_count", "Collides with the histogram's _count.");
    registry.AddCounter("1invalid", "Bad name.");
    registry.AddCounter("test_bad_label_total", "Bad label.", {"__reserved"});
    registry.AddCounter("test_dup_label_total", "Duplicate label.", {"a", "a"});
    registry.AddHistogram("test_le", "le is the histogram's own label.", {1}, {"le"});
    registry.AddHistogram("test_h", "Other buckets.", {2});

    const std::string text = registry.Render();
    CHECK(text.find("reason=\"x\"") == std::string::npos);
    CHECK(text.find("1invalid") == std::string::npos);
    CHECK(text.find("test_h_count 0") != std::string::npos);  // the histogram's own
    CHECK(text.find("# TYPE test_h_count") == std::string::npos);
    CHECK(text.find("globalsvc_metrics_errors_total{reason=\"registration\"} 8\n") !=
          std::string::npos);
  }

  const std::string text = registry.Render();
  CHECK(text.find("# TYPE globalsvc_metrics_errors_total counter\n") != std::string::npos);
  CHECK(text.find("globalsvc_metrics_errors_total{reason=\"label_count\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("globalsvc_metrics_errors_total{reason=\"invalid_value\"} 3\n") !=
        std::string::npos);
}

TEST_CASE("Concurrent updates are all counted", "[observability]") {
  Registry registry;
  auto& counter = registry.AddCounter("test_ops_total", "Ops.", {"worker"});
  auto& total = registry.AddCounter("test_all_ops_total", "All ops.");
  auto& histogram = registry.AddHistogram("test_op_seconds", "Op time.", {0.5, 1});
  auto& gauge = registry.AddGauge("test_in_flight", "In flight.");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::vector<std::string> labels{t % 2 == 0 ? "even" : "odd"};
      for (int i = 0; i < kPerThread; ++i) {
        counter.Inc(labels);
        total.Inc();
        histogram.Observe(i % 2 == 0 ? 0.25 : 0.75);
        gauge.Add(1);
        gauge.Add(-1);
      }
    });
  }
  std::thread reader([&] {
    for (int i = 0; i < 50; ++i)
      static_cast<void>(registry.Render());
  });
  for (auto& thread : threads)
    thread.join();
  reader.join();

  CHECK(total.Value() == kThreads * kPerThread);
  CHECK(counter.Value({"even"}) == kThreads / 2 * kPerThread);
  CHECK(counter.Value({"odd"}) == kThreads / 2 * kPerThread);
  CHECK(histogram.Count() == static_cast<std::uint64_t>(kThreads) * kPerThread);
  CHECK(gauge.Value() == 0);
  CHECK(registry.Render().find("test_op_seconds_bucket{le=\"0.5\"} 80000\n") != std::string::npos);
}

}  // namespace
}  // namespace globalsvc::obs
