// Processes the benchmarks run or watch: globalsvc as a child, and any
// process's memory and CPU read from /proc.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace globalsvc::bench {

// Resident memory of a process in KiB (-1 when it is gone).
long ProcessRssKiB(pid_t pid);
// User + system CPU seconds a process has used.
double ProcessCpuSeconds(pid_t pid);

// A tiny HTTP/1.0 GET of 127.0.0.1:`port` without another dependency: the
// whole response, headers included; empty when nothing answers.
std::string HttpGet(int port, const std::string& path);
// The body of HttpGet's response ("" without one).
std::string HttpBody(const std::string& response);

// The sum of the series of metric `name` in Prometheus text `metrics` whose
// line contains `must_contain`. `name` may carry labels to pick one series
// (`globalsvc_writes_total{kind="apply"}`); 0 when none is there.
double MetricSum(const std::string& metrics, const std::string& name,
                 const std::string& must_contain = "");

int FreePort();

struct ControllerOptions {
  std::filesystem::path testbed;
  std::string globalsvc;  // the binary
  std::string object_shape = "workload-entries";
  std::string wrap;  // "CMD ARGS" to run it under, e.g. a profiler
};

// `globalsvc controller` for one test-bed cluster as a child process, its
// stderr in a log file.
struct ControllerProcess {
  pid_t pid = -1;
  int port = 0;
  std::filesystem::path log;

  void Start(const ControllerOptions& options, const std::string& cluster, int metrics_port);
  void Stop();
  // A controller that died (crash, bad flag) ends the bench at once instead of
  // leaving it waiting for a condition that cannot come.
  void CheckAlive();
  ~ControllerProcess() { Stop(); }

  [[nodiscard]] std::string Metrics() const;
  // The value of one series of /metrics (0 when absent).
  [[nodiscard]] double Metric(const std::string& series) const;
  [[nodiscard]] long RssKiB() const { return ProcessRssKiB(pid); }
  [[nodiscard]] double CpuSeconds() const { return ProcessCpuSeconds(pid); }
  [[nodiscard]] bool Ready() const;
};

// Waits until the controller leads and holds every service at `weight`.
class EntryWatcher;
void WaitForController(ControllerProcess& controller, EntryWatcher& watcher, int services,
                       int weight);
// Waits until the controller's metric `series` reaches `value`.
void WaitForMetric(ControllerProcess& controller, const std::string& series, double value);
// Waits for the controller's first readiness, then lets it settle, so RSS
// figures are not taken in the middle of a list.
void WaitReadyAndSettle(ControllerProcess& controller);

}  // namespace globalsvc::bench
