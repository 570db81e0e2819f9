#include "test/support/testbed.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

extern char** environ;

namespace globalsvc::testsupport {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

// Summarises a failed command for an error message.
std::string Describe(const std::vector<std::string>& argv, const CommandResult& result) {
  std::string text;
  for (const auto& arg : argv) {
    if (!text.empty()) text += ' ';
    text += arg;
  }
  if (result.timed_out) {
    text += ": timed out";
  } else {
    text += ": exit " + std::to_string(result.exit_code);
  }
  const std::string err = Trimmed(result.err);
  if (!err.empty()) text += ": " + err;
  return text;
}

// The environment for a child: ours with `overrides` applied.
std::vector<std::string> ChildEnvironment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view item(*entry);
    const auto eq = item.find('=');
    const std::string name(item.substr(0, eq));
    if (overrides.count(name) == 0) env.emplace_back(item);
  }
  for (const auto& [name, value] : overrides)
    env.push_back(name + "=" + value);
  return env;
}

void SetNonBlocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Reads cluster.env: KEY=value lines written by scripts/testbed.
std::map<std::string, std::string> ReadEnvFile(const fs::path& path) {
  std::map<std::string, std::string> values;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos || line.starts_with('#')) continue;
    values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

Result<fs::path> MakeStateDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/globalsvc-testbed-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    return MakeError(ErrorCode::kInternal, "mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  return fs::path(buffer.data());
}

fs::path TestbedScript() {
  return SourceDir() / "scripts" / "testbed";
}

}  // namespace

fs::path SourceDir() {
  if (const char* dir = std::getenv("GLOBALSVC_SOURCE_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
#ifdef GLOBALSVC_SOURCE_DIR
  return GLOBALSVC_SOURCE_DIR;
#else
  return fs::current_path();
#endif
}

CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options) {
  CommandResult result;
  if (argv.empty()) {
    result.err = "empty command";
    return result;
  }
  std::array<int, 2> in{-1, -1};
  std::array<int, 2> out{-1, -1};
  std::array<int, 2> err{-1, -1};
  if (::pipe2(in.data(), O_CLOEXEC) != 0 || ::pipe2(out.data(), O_CLOEXEC) != 0 ||
      ::pipe2(err.data(), O_CLOEXEC) != 0) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return result;
  }

  // Everything the child needs is prepared before fork: only async-signal-safe
  // calls happen between fork and exec.
  std::vector<std::string> env_storage = ChildEnvironment(options.env);
  std::vector<char*> env_ptrs;
  for (auto& item : env_storage)
    env_ptrs.push_back(item.data());
  env_ptrs.push_back(nullptr);
  std::vector<std::string> arg_storage = argv;
  std::vector<char*> arg_ptrs;
  for (auto& arg : arg_storage)
    arg_ptrs.push_back(arg.data());
  arg_ptrs.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) {
    result.err = std::string("fork: ") + std::strerror(errno);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]})
      ::close(fd);
    return result;
  }
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execvpe(arg_ptrs[0], arg_ptrs.data(), env_ptrs.data());
    const char message[] = "exec failed\n";
    [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, message, sizeof(message) - 1);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  SetNonBlocking(in[1]);
  SetNonBlocking(out[0]);
  SetNonBlocking(err[0]);

  int stdin_fd = in[1];
  size_t written = 0;
  if (options.stdin_text.empty()) {
    ::close(stdin_fd);
    stdin_fd = -1;
  }
  int stdout_fd = out[0];
  int stderr_fd = err[0];
  const auto deadline = Clock::now() + options.timeout;
  std::array<char, 65536> buffer{};

  // The parent must not die of SIGPIPE when the child closes stdin early.
  struct sigaction ignore_pipe {};
  struct sigaction previous_pipe {};
  ignore_pipe.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore_pipe, &previous_pipe);

  while (stdout_fd >= 0 || stderr_fd >= 0) {
    const auto now = Clock::now();
    if (now >= deadline) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    std::vector<pollfd> fds;
    if (stdin_fd >= 0) fds.push_back({stdin_fd, POLLOUT, 0});
    if (stdout_fd >= 0) fds.push_back({stdout_fd, POLLIN, 0});
    if (stderr_fd >= 0) fds.push_back({stderr_fd, POLLIN, 0});
    const auto wait_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    const int ready =
        ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(wait_ms, 1000)));
    if (ready < 0 && errno != EINTR) break;
    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == stdin_fd) {
        const auto n = ::write(stdin_fd, options.stdin_text.data() + written,
                               options.stdin_text.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if (n < 0 || written == options.stdin_text.size()) {
          ::close(stdin_fd);
          stdin_fd = -1;
        }
        continue;
      }
      const auto n = ::read(p.fd, buffer.data(), buffer.size());
      if (n > 0) {
        (p.fd == stdout_fd ? result.out : result.err).append(buffer.data(), static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(p.fd);
        (p.fd == stdout_fd ? stdout_fd : stderr_fd) = -1;
      }
    }
  }
  for (int fd : {stdin_fd, stdout_fd, stderr_fd}) {
    if (fd >= 0) ::close(fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::sigaction(SIGPIPE, &previous_pipe, nullptr);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

Status WaitFor(std::string_view what, std::chrono::milliseconds timeout,
               const std::function<bool(std::string* why)>& condition,
               std::chrono::milliseconds interval) {
  const auto deadline = Clock::now() + timeout;
  std::string why;
  while (true) {
    why.clear();
    try {
      if (condition(&why)) return Ok{};
    } catch (const std::exception& e) {
      // A live object read between two writes (created, its status not yet
      // there) may make a check throw: not yet, poll on.
      why = std::string("the check threw: ") + e.what();
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(interval);
  }
  std::string message =
      "timed out after " + std::to_string(timeout.count()) + " ms waiting for " + std::string(what);
  if (!why.empty()) message += ": " + why;
  return MakeError(ErrorCode::kUnavailable, message);
}

const char* ComponentName(Component component) {
  switch (component) {
    case Component::kEtcd:
      return "etcd";
    case Component::kApiServer:
      return "kube-apiserver";
    case Component::kControllerManager:
      return "kube-controller-manager";
    case Component::kScheduler:
      return "kube-scheduler";
    case Component::kKwok:
      return "kwok";
  }
  return "unknown";
}

TestBed::TestBed(fs::path state_dir, bool owned)
    : state_dir_(std::move(state_dir)), owned_(owned) {}

TestBed::~TestBed() {
  if (!owned_) return;
  const CommandResult down = Script({"down"});
  if (!down.ok()) {
    // Nothing to return an error to from a destructor; say it where a test
    // run's output shows it.
    std::fprintf(stderr, "testsupport: scripts/testbed down failed for %s: %s\n",
                 state_dir_.c_str(), down.err.c_str());
  }
}

CommandResult TestBed::Script(const std::vector<std::string>& args,
                              std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv{TestbedScript().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.env["GLOBALSVC_TESTBED_DIR"] = state_dir_.string();
  options.timeout = timeout;
  return RunCommand(argv, options);
}

Status TestBed::Load() {
  std::ifstream list(state_dir_ / "clusters");
  if (!list) {
    return MakeError(ErrorCode::kNotFound, "no test bed in " + state_dir_.string());
  }
  clusters_.clear();
  for (std::string name; std::getline(list, name);) {
    if (name.empty()) continue;
    if (!fs::exists(state_dir_ / name / "kubeconfig")) {
      return MakeError(ErrorCode::kNotFound,
                       "test bed in " + state_dir_.string() + " has no kubeconfig for " + name);
    }
    cluster_env_[name] = ReadEnvFile(state_dir_ / name / "cluster.env");
    clusters_.push_back(name);
  }
  if (clusters_.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "test bed in " + state_dir_.string() + " has no clusters");
  }
  const CommandResult bin = Script({"bin"}, std::chrono::minutes(1));
  if (!bin.ok()) {
    return MakeError(ErrorCode::kInternal, Describe({"scripts/testbed", "bin"}, bin));
  }
  bin_dir_ = Trimmed(bin.out);
  return Ok{};
}

Result<std::unique_ptr<TestBed>> TestBed::Attach(const fs::path& state_dir) {
  std::unique_ptr<TestBed> bed(new TestBed(fs::absolute(state_dir), /*owned=*/false));
  if (Status loaded = bed->Load(); !loaded) return loaded.error();
  return bed;
}

Result<std::unique_ptr<TestBed>> TestBed::Start(int clusters, const fs::path& topology) {
  Result<fs::path> dir = MakeStateDir();
  if (!dir) return dir.error();
  std::unique_ptr<TestBed> bed(new TestBed(*dir, /*owned=*/true));
  std::vector<std::string> args{"up", "--clusters", std::to_string(clusters)};
  if (!topology.empty()) {
    args.emplace_back("--topology");
    args.push_back(fs::absolute(topology).string());
  }
  // The first run on a machine builds the binaries; give it time.
  const CommandResult up = bed->Script(args, std::chrono::minutes(60));
  if (!up.ok()) {
    // The destructor stops whatever did start.
    return MakeError(ErrorCode::kUnavailable, Describe({"scripts/testbed", "up"}, up));
  }
  if (Status loaded = bed->Load(); !loaded) return loaded.error();
  return bed;
}

Result<TestBed*> TestBed::Shared(int clusters) {
  static std::unique_ptr<TestBed> shared;
  if (shared) return shared.get();
  if (const char* dir = std::getenv("GLOBALSVC_TESTBED_DIR"); dir != nullptr && *dir != '\0') {
    if (fs::exists(fs::path(dir) / "clusters")) {
      Result<std::unique_ptr<TestBed>> attached = Attach(dir);
      if (!attached) return attached.error();
      if (static_cast<int>((*attached)->clusters().size()) < clusters) {
        return MakeError(ErrorCode::kInvalidInput, "the test bed in " + std::string(dir) +
                                                       " has fewer than " +
                                                       std::to_string(clusters) + " clusters");
      }
      shared = std::move(attached.value());
      return shared.get();
    }
  }
  Result<std::unique_ptr<TestBed>> started = Start(clusters);
  if (!started) return started.error();
  shared = std::move(started.value());
  return shared.get();
}

fs::path TestBed::Kubeconfig(std::string_view cluster) const {
  return state_dir_ / std::string(cluster) / "kubeconfig";
}

std::string TestBed::ClusterValue(std::string_view cluster, std::string_view key) const {
  const auto env = cluster_env_.find(cluster);
  if (env == cluster_env_.end()) return {};
  const auto value = env->second.find(std::string(key));
  return value == env->second.end() ? std::string() : value->second;
}

std::string TestBed::ApiServerUrl(std::string_view cluster) const {
  return "https://127.0.0.1:" + ClusterValue(cluster, "APISERVER_PORT");
}

CommandResult TestBed::Kubectl(std::string_view cluster, const std::vector<std::string>& args,
                               std::string_view stdin_text) const {
  std::vector<std::string> argv{(bin_dir_ / "kubectl").string(), "--kubeconfig",
                                Kubeconfig(cluster).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.stdin_text = std::string(stdin_text);
  options.timeout = std::chrono::minutes(2);
  return RunCommand(argv, options);
}

Status TestBed::Apply(std::string_view cluster, std::string_view yaml) const {
  const CommandResult result = Kubectl(cluster, {"apply", "-f", "-"}, yaml);
  if (!result.ok())
    return MakeError(ErrorCode::kInvalidInput, Describe({"kubectl", "apply"}, result));
  return Ok{};
}

Status TestBed::Delete(std::string_view cluster, std::string_view yaml) const {
  const CommandResult result = Kubectl(cluster, {"delete", "--ignore-not-found", "-f", "-"}, yaml);
  if (!result.ok()) return MakeError(ErrorCode::kInternal, Describe({"kubectl", "delete"}, result));
  return Ok{};
}

Result<std::vector<PlacedPod>> TestBed::Pods(std::string_view cluster, std::string_view ns,
                                             std::string_view selector) const {
  auto pods = GetJson(cluster, {"pods", "-n", std::string(ns), "-l", std::string(selector)});
  if (!pods.ok()) return pods.error();
  auto nodes = GetJson(cluster, {"nodes"});
  if (!nodes.ok()) return nodes.error();
  std::map<std::string, std::string> locality_of_node;
  for (const auto& node : nodes->value("items", nlohmann::json::array())) {
    const auto labels = node["metadata"].value("labels", nlohmann::json::object());
    locality_of_node[node["metadata"].value("name", "")] =
        labels.value("topology.kubernetes.io/region", "") + "/" +
        labels.value("topology.kubernetes.io/zone", "");
  }
  std::vector<PlacedPod> out;
  for (const auto& pod : pods->value("items", nlohmann::json::array())) {
    const auto status = pod.value("status", nlohmann::json::object());
    if (status.value("podIP", "").empty()) continue;
    out.push_back(
        {pod["metadata"].value("name", ""), status.value("podIP", ""),
         locality_of_node[pod.value("spec", nlohmann::json::object()).value("nodeName", "")]});
  }
  std::sort(out.begin(), out.end(),
            [](const PlacedPod& a, const PlacedPod& b) { return a.ip < b.ip; });
  return out;
}

Result<nlohmann::json> TestBed::GetJson(std::string_view cluster,
                                        const std::vector<std::string>& args) const {
  std::vector<std::string> full{"get"};
  full.insert(full.end(), args.begin(), args.end());
  full.emplace_back("-o");
  full.emplace_back("json");
  const CommandResult result = Kubectl(cluster, full);
  if (!result.ok()) {
    const bool missing = result.err.find("NotFound") != std::string::npos;
    return MakeError(missing ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                     Describe({"kubectl", "get"}, result));
  }
  nlohmann::json parsed = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return MakeError(ErrorCode::kInternal, "kubectl get printed invalid JSON");
  }
  return parsed;
}

Status TestBed::Scale(std::string_view cluster, std::string_view ns, std::string_view deployment,
                      int replicas) const {
  const CommandResult result =
      Kubectl(cluster, {"-n", std::string(ns), "scale", "deployment/" + std::string(deployment),
                        "--replicas", std::to_string(replicas)});
  if (!result.ok())
    return MakeError(ErrorCode::kUnavailable, Describe({"kubectl", "scale"}, result));
  return Ok{};
}

Status TestBed::WaitForReadyReplicas(std::string_view cluster, std::string_view ns,
                                     std::string_view deployment, int replicas,
                                     std::chrono::milliseconds timeout) const {
  const std::string what = std::string(cluster) + " " + std::string(ns) + "/" +
                           std::string(deployment) + " with " + std::to_string(replicas) +
                           " ready replicas";
  static const nlohmann::json::json_pointer kReady("/status/readyReplicas");
  static const nlohmann::json::json_pointer kMatchLabels("/spec/selector/matchLabels");
  return WaitFor(what, timeout, [&](std::string* why) {
    Result<nlohmann::json> object =
        GetJson(cluster, {"deployment", "-n", std::string(ns), std::string(deployment)});
    if (!object) {
      *why = object.error().message;
      return false;
    }
    const int ready = object->contains(kReady) ? object->at(kReady).get<int>() : 0;
    std::string selector;
    if (object->contains(kMatchLabels)) {
      for (const auto& [key, value] : object->at(kMatchLabels).items()) {
        if (!selector.empty()) selector += ',';
        selector += key + "=" + value.get<std::string>();
      }
    }
    Result<nlohmann::json> pods = GetJson(cluster, {"pods", "-n", std::string(ns), "-l", selector});
    if (!pods) {
      *why = pods.error().message;
      return false;
    }
    const size_t pod_count = pods->value("items", nlohmann::json::array()).size();
    *why = "ready " + std::to_string(ready) + ", pods " + std::to_string(pod_count);
    // Scaling down counts as done once the pods are gone, not merely unready.
    return ready == replicas && pod_count == static_cast<size_t>(replicas);
  });
}

Status TestBed::WaitForServiceEndpoints(std::string_view cluster, std::string_view ns,
                                        std::string_view service, int ready,
                                        std::chrono::milliseconds timeout) const {
  const std::string what = std::string(cluster) + " Service " + std::string(ns) + "/" +
                           std::string(service) + " with exactly " + std::to_string(ready) +
                           " ready endpoints in its EndpointSlices";
  return WaitFor(what, timeout, [&](std::string* why) {
    Result<nlohmann::json> slices =
        GetJson(cluster, {"endpointslices", "-n", std::string(ns), "-l",
                          "kubernetes.io/service-name=" + std::string(service)});
    if (!slices) {
      *why = slices.error().message;
      return false;
    }
    int ready_count = 0;
    int other_count = 0;
    for (const auto& slice : slices->value("items", nlohmann::json::array())) {
      for (const auto& endpoint : slice.value("endpoints", nlohmann::json::array())) {
        const auto conditions = endpoint.value("conditions", nlohmann::json::object());
        (conditions.value("ready", false) ? ready_count : other_count) += 1;
      }
    }
    *why = "ready " + std::to_string(ready_count) + ", not ready or terminating " +
           std::to_string(other_count);
    return ready_count == ready && other_count == 0;
  });
}

Status TestBed::StopComponent(std::string_view cluster, Component component, bool kill) const {
  std::vector<std::string> args{"stop", std::string(cluster), ComponentName(component)};
  if (kill) args.emplace_back("--kill");
  const CommandResult result = Script(args, std::chrono::minutes(1));
  if (!result.ok())
    return MakeError(ErrorCode::kInternal, Describe({"scripts/testbed", "stop"}, result));
  return Ok{};
}

Status TestBed::StartComponent(std::string_view cluster, Component component) const {
  const CommandResult result =
      Script({"start", std::string(cluster), ComponentName(component)}, std::chrono::minutes(3));
  if (!result.ok()) {
    return MakeError(ErrorCode::kUnavailable, Describe({"scripts/testbed", "start"}, result));
  }
  return Ok{};
}

Status TestBed::RestartComponent(std::string_view cluster, Component component, bool kill) const {
  if (Status stopped = StopComponent(cluster, component, kill); !stopped) return stopped;
  return StartComponent(cluster, component);
}

}  // namespace globalsvc::testsupport
