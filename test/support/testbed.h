#pragma once

// Test support for tests that run against the real multi-cluster test bed
// (scripts/testbed): find or start a test bed, reach its clusters through
// kubectl, wait for conditions with deadlines, and inject control-plane faults.
//
// Threads: none of its own. A TestBed may be used from one thread at a time;
// the commands it runs are child processes that finish before a call returns.
//
// Lifetime: a test bed this library starts is stopped and its state removed
// when the TestBed that started it is destroyed (for Shared(), at process
// exit). A test bed found through GLOBALSVC_TESTBED_DIR is never stopped.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace globalsvc::testsupport {

// Output of a finished child process.
struct CommandResult {
  int exit_code = -1;  // -1 when the process did not exit normally (signal, timeout)
  bool timed_out = false;
  std::string out;
  std::string err;

  [[nodiscard]] bool ok() const { return exit_code == 0; }
};

struct CommandOptions {
  std::string stdin_text;
  std::map<std::string, std::string> env;  // added to (or replacing in) the current environment
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

// Runs argv[0] (looked up in PATH) without a shell and collects its output;
// a process still running at the timeout is killed.
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options = {});

// Polls `condition` until it returns true or `timeout` passes. `condition`
// may set `*why` to say what it saw last; that text is part of the error. A
// check that throws counts as not yet met.
Status WaitFor(std::string_view what, std::chrono::milliseconds timeout,
               const std::function<bool(std::string* why)>& condition,
               std::chrono::milliseconds interval = std::chrono::milliseconds(100));

// The processes of one cluster that StopComponent/StartComponent act on.
enum class Component { kEtcd, kApiServer, kControllerManager, kScheduler, kKwok };

[[nodiscard]] const char* ComponentName(Component component);

// A running pod: its name, address and its node's "<region>/<zone>".
struct PlacedPod {
  std::string name;
  std::string ip;
  std::string locality;
};

class TestBed {
 public:
  // The test bed shared by every test of this process: the one named by
  // GLOBALSVC_TESTBED_DIR when that folder has a kubeconfig per cluster,
  // else one started on first use with `clusters` clusters in a fresh state
  // folder and stopped at process exit.
  static Result<TestBed*> Shared(int clusters = 2);

  // Starts a private test bed in a fresh state folder (unique ports); it is
  // stopped when the returned object is destroyed. `topology` may name a
  // topology file; empty means the default one.
  static Result<std::unique_ptr<TestBed>> Start(int clusters,
                                                const std::filesystem::path& topology = {});

  // Uses the running test bed in `state_dir` without taking ownership.
  static Result<std::unique_ptr<TestBed>> Attach(const std::filesystem::path& state_dir);

  TestBed(const TestBed&) = delete;
  TestBed& operator=(const TestBed&) = delete;
  ~TestBed();

  [[nodiscard]] const std::filesystem::path& state_dir() const { return state_dir_; }
  [[nodiscard]] const std::vector<std::string>& clusters() const { return clusters_; }
  [[nodiscard]] std::filesystem::path Kubeconfig(std::string_view cluster) const;
  // A value from the cluster's cluster.env (REGION, NETWORK, ZONES, POD_CIDR,
  // SERVICE_CIDR, APISERVER_PORT, ...); empty when unknown.
  [[nodiscard]] std::string ClusterValue(std::string_view cluster, std::string_view key) const;
  [[nodiscard]] std::string ApiServerUrl(std::string_view cluster) const;
  [[nodiscard]] const std::filesystem::path& bin_dir() const { return bin_dir_; }

  // kubectl --kubeconfig <cluster's admin kubeconfig> args...
  CommandResult Kubectl(std::string_view cluster, const std::vector<std::string>& args,
                        std::string_view stdin_text = {}) const;
  // kubectl apply -f - with the given (multi-document) YAML.
  Status Apply(std::string_view cluster, std::string_view yaml) const;
  // kubectl delete --ignore-not-found -f - with the given YAML.
  Status Delete(std::string_view cluster, std::string_view yaml) const;
  // kubectl get <args> -o json, parsed.
  Result<nlohmann::json> GetJson(std::string_view cluster,
                                 const std::vector<std::string>& args) const;
  // The pods of `ns` matching `selector` that have an address, by address.
  Result<std::vector<PlacedPod>> Pods(std::string_view cluster, std::string_view ns,
                                      std::string_view selector) const;
  Status Scale(std::string_view cluster, std::string_view ns, std::string_view deployment,
               int replicas) const;
  // Waits until the Deployment reports `replicas` ready replicas and has no
  // other pods (a scaled-down pod still terminating counts as not done).
  Status WaitForReadyReplicas(std::string_view cluster, std::string_view ns,
                              std::string_view deployment, int replicas,
                              std::chrono::milliseconds timeout) const;
  // Waits until the Service's own EndpointSlices list exactly `ready`
  // endpoints, every one ready: the cluster's ground truth, which its
  // controller-manager may take a while to reach after an API server outage.
  Status WaitForServiceEndpoints(std::string_view cluster, std::string_view ns,
                                 std::string_view service, int ready,
                                 std::chrono::milliseconds timeout) const;

  // Fault injection: stop (SIGTERM, or SIGKILL when `kill`) and start one
  // component of one cluster. StartComponent returns once it is healthy.
  Status StopComponent(std::string_view cluster, Component component, bool kill = false) const;
  Status StartComponent(std::string_view cluster, Component component) const;
  Status RestartComponent(std::string_view cluster, Component component, bool kill = false) const;

 private:
  TestBed(std::filesystem::path state_dir, bool owned);
  Status Load();
  CommandResult Script(const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout = std::chrono::minutes(5)) const;

  std::filesystem::path state_dir_;
  bool owned_ = false;
  std::filesystem::path bin_dir_;
  std::vector<std::string> clusters_;
  std::map<std::string, std::map<std::string, std::string>, std::less<>> cluster_env_;
};

// The repository's root folder (GLOBALSVC_SOURCE_DIR at build time, or the
// environment variable of the same name).
std::filesystem::path SourceDir();

}  // namespace globalsvc::testsupport
