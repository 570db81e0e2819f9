#pragma once

// Helpers of the controller's fault tests: the controller as a child process
// of the globalsvc binary (its metrics over HTTP, its log in a file), remote
// Secrets, a poller that records every moment a ServiceEntry was wrong, a TCP
// proxy that can cut or slow a cluster's API server, and etcd compaction.
// Every case of these tests ends by asserting exact ServiceEntries.

#include <sys/types.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lib/base/result.h"
#include "lib/kube/kube_client.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/support/testbed.h"

namespace globalsvc::controller::testbed {

std::string Message(const Status& status);

template <typename T>
Status StatusOf(const Result<T>& result) {
  return result.ok() ? Status(Ok{}) : Status(result.error());
}

#define REQUIRE_OK(expr)                                      \
  do {                                                        \
    const ::globalsvc::Status status_ = (expr);               \
    INFO(::globalsvc::controller::testbed::Message(status_)); \
    REQUIRE(status_.ok());                                    \
  } while (false)

#define CHECK_OK(expr)                                        \
  do {                                                        \
    const ::globalsvc::Status status_ = (expr);               \
    INFO(::globalsvc::controller::testbed::Message(status_)); \
    CHECK(status_.ok());                                      \
  } while (false)

double Seconds(std::chrono::steady_clock::duration d);
// Prints a figure a case measured ("figure: what = value unit").
void Figure(const std::string& what, double value, const std::string& unit = "s");

// cluster1's ServiceEntry for the guide's service: its own two pods, and,
// when cluster2 is connected, cluster2 behind its east-west gateway.
const std::vector<std::string>& LocalView();
std::vector<std::string> FullView(int cluster2_ready = 2);

std::string Joined(const std::vector<std::string>& lines);

struct ControllerProcessOptions {
  std::filesystem::path log_path;
  std::filesystem::path kubeconfig;  // cluster1's
  std::string identity;
  std::string lease;
  std::vector<std::string> extra_args;
};

// A controller for cluster1 as a child process (killed with the test).
class ControllerProcess {
 public:
  static Result<std::unique_ptr<ControllerProcess>> Start(const ControllerProcessOptions& options);

  ControllerProcess(const ControllerProcess&) = delete;
  ControllerProcess& operator=(const ControllerProcess&) = delete;
  // Stops the controller; a sanitizer report in its log fails the test.
  ~ControllerProcess();

  [[nodiscard]] const std::string& identity() const { return identity_; }
  [[nodiscard]] pid_t pid() const { return pid_; }

  bool Running();
  // SIGTERM and wait for a clean exit (SIGKILL after 20 s); true when the
  // controller exited with status 0.
  bool Terminate();
  void Kill();

  [[nodiscard]] std::string Log() const;
  [[nodiscard]] std::string Tail() const;
  [[nodiscard]] std::optional<std::string> Get(const std::string& path) const;
  // nullopt when the sample is absent or the controller does not answer.
  [[nodiscard]] std::optional<double> Metric(
      std::string_view name, const std::map<std::string, std::string>& labels = {}) const;
  [[nodiscard]] double MetricOr0(std::string_view name,
                                 const std::map<std::string, std::string>& labels = {}) const;
  // The first sanitizer report (ThreadSanitizer, AddressSanitizer,
  // UndefinedBehaviorSanitizer) in the log, empty when there is none.
  [[nodiscard]] std::string SanitizerReport() const;
  // Occurrences of `text` in the log.
  [[nodiscard]] int CountInLog(const std::string& text) const;
  // Resident memory (VmRSS) in KiB; 0 when the process is gone.
  [[nodiscard]] std::int64_t RssKib() const;

 private:
  ControllerProcess() = default;

  std::string identity_;
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  int exit_status_ = 0;
  int port_ = 0;
};

// The shared two-cluster test bed (a failed REQUIRE when there is none).
testsupport::TestBed& SharedBed();

// Starts a controller for cluster1, its log in a folder of this process
// (removed at exit unless GLOBALSVC_KEEP_LOGS is set). An empty `kubeconfig`
// is the test bed's own for cluster1.
Result<std::unique_ptr<ControllerProcess>> StartController(
    const std::string& identity, const std::string& lease,
    const std::vector<std::string>& extra_args = {}, const std::filesystem::path& kubeconfig = {});

// Writes `text` to a file in that folder and returns its path.
std::filesystem::path WriteTempFile(const std::string& name, const std::string& text);

Status WaitForMetric(const ControllerProcess& process, const std::string& what,
                     const std::function<bool(const ControllerProcess&)>& condition,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The remote Secret `name` in cluster1 connecting cluster2 with `kubeconfig`.
Status ApplySecret(const testsupport::TestBed& bed, const std::string& name,
                   const std::string& kubeconfig);
Status DeleteSecret(const testsupport::TestBed& bed, const std::string& name);

// The guide's app in both clusters and no remote Secret in cluster1.
void StartClean(const testsupport::TestBed& bed);

// Waits until cluster1 holds no WorkloadEntry of ours for `remote`'s
// endpoints and no peer Gateway of ours. A case whose controller stops before
// deleting them leaves the next case's controller deletes to make at start.
Status WaitForRemoteObjectsGone(const testsupport::TestBed& bed, const std::string& remote,
                                std::chrono::seconds timeout = std::chrono::seconds(60));

// Polls one ServiceEntry of cluster1 on its own thread and records every poll
// at which `problem` (given the object, or null when absent) says something.
// Polls while cluster1's API server does not answer are not counted.
class EntryPoller {
 public:
  EntryPoller(const testsupport::TestBed& bed,
              std::function<std::string(const nlohmann::json*)> problem,
              std::string name = kGuideEntry);
  ~EntryPoller() { Stop(); }
  void Stop();
  // Stops once at least `polls` polls were counted (however slow the
  // machine), or after `timeout` with an error saying how many there were.
  [[nodiscard]] Status StopAfter(int polls,
                                 std::chrono::seconds timeout = std::chrono::seconds(120));
  int polls();
  std::vector<std::string> misses();

 private:
  std::mutex mutex_;
  int polls_ = 0;
  std::vector<std::string> misses_;
  std::jthread thread_;
};

// A TCP proxy on 127.0.0.1 in front of another local port: TLS passes through
// untouched (the server's certificate still names 127.0.0.1, so clients keep
// verifying it). It can cut every connection and refuse new ones, and delay
// every chunk it forwards, or black-hole the path like a network partition.
class TcpProxy {
 public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  [[nodiscard]] int port() const { return port_; }
  // Closes every open connection; while cut, new ones are closed at once.
  void Cut();
  void Restore();
  void SetDelay(std::chrono::milliseconds delay) { delay_ms_ = static_cast<int>(delay.count()); }
  // A partition: open connections stop forwarding without being closed (as
  // with a peer that vanished), new ones are accepted and never answered.
  // Heal() lets new connections through; the silenced ones stay silent.
  void Stall();
  void Heal();
  [[nodiscard]] std::uint64_t connections() const { return connections_; }

 private:
  void Accept(std::stop_token stop);
  void Pump(int from, int to, std::uint64_t generation);

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> cut_{false};
  std::atomic<bool> stalled_{false};
  std::atomic<bool> closing_{false};
  std::atomic<std::uint64_t> generation_{0};    // of the next connection
  std::atomic<std::uint64_t> silent_below_{0};  // connections older than this are silenced
  std::atomic<int> delay_ms_{0};
  std::atomic<std::uint64_t> connections_{0};
  std::mutex mutex_;
  std::vector<int> open_fds_;
  std::vector<std::jthread> pumps_;
  std::jthread acceptor_;
};

// A copy of `kubeconfig` (a file of the test bed) whose server is
// https://127.0.0.1:<port>.
std::string KubeconfigThrough(const std::string& kubeconfig, int port);

// An API client for a cluster of the test bed (admin), without a client-side
// rate limit to speak of.
std::unique_ptr<kube::KubeClient> ApiClient(const testsupport::TestBed& bed,
                                            const std::string& cluster);
// Server-side apply of `object` (Service, EndpointSlice or Deployment) as the
// tests' field manager.
Status ServerSideApply(kube::KubeClient& client, const nlohmann::json& object);

// Compacts the cluster's etcd up to its current revision, so every older
// resourceVersion is gone for good; returns that revision.
Result<std::int64_t> CompactEtcd(const testsupport::TestBed& bed, const std::string& cluster);

}  // namespace globalsvc::controller::testbed
