#include "test/integration/controller/fault_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test/integration/controller/child_process.h"

namespace globalsvc::controller::testbed {

namespace fs = std::filesystem;
using testsupport::TestBed;
using testsupport::WaitFor;
using namespace std::chrono_literals;

std::string Message(const Status& status) {
  return status.ok() ? std::string() : status.error().message;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void Figure(const std::string& what, double value, const std::string& unit) {
  std::printf("figure: %s = %.1f %s\n", what.c_str(), value, unit.c_str());
  std::fflush(stdout);
}

const std::vector<std::string>& LocalView() {
  static const std::vector<std::string> lines = {
      "cluster1 cluster1-network us-east-1/us-east-1a 0 pod",
      "cluster1 cluster1-network us-east-1/us-east-1b 0 pod",
  };
  return lines;
}

std::vector<std::string> FullView(int cluster2_ready) {
  auto lines = LocalView();
  if (cluster2_ready > 0) {
    lines.push_back("cluster2 cluster2-network us-west-2/us-west-2a " +
                    std::to_string(cluster2_ready) + " gateway");
  }
  return lines;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines)
    out += line + "\n";
  return out;
}

// ---------------------------------------------------------------------------

Result<std::unique_ptr<ControllerProcess>> ControllerProcess::Start(
    const ControllerProcessOptions& options) {
  std::unique_ptr<ControllerProcess> process(new ControllerProcess);
  process->identity_ = options.identity;
  process->log_path_ = options.log_path;
  std::vector<std::string> args = {GLOBALSVC_BINARY,
                                   "controller",
                                   "--cluster-name",
                                   "cluster1",
                                   "--kubeconfig",
                                   options.kubeconfig.string(),
                                   "--metrics-addr",
                                   "127.0.0.1:0",
                                   "--log-level",
                                   "debug",
                                   "--identity",
                                   options.identity,
                                   "--lease-name",
                                   options.lease,
                                   "--initial-sync-timeout",
                                   "20"};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  auto pid = SpawnLogged(std::move(args), process->log_path_);
  if (!pid.ok()) return pid.error();
  process->pid_ = *pid;

  // The metrics port is in the start-up log line.
  auto found =
      WaitFor("controller " + options.identity + " serving metrics", 20s, [&](std::string* why) {
        const std::string log = process->Log();
        const auto line = log.find("serving metrics and health");
        if (line != std::string::npos) {
          const auto port = log.find("port=", line);
          if (port != std::string::npos) {
            process->port_ = std::atoi(log.c_str() + port + 5);
            return process->port_ > 0;
          }
        }
        *why = process->Running() ? "no port yet" : "exited: " + log.substr(0, 2000);
        return !process->Running();
      });
  if (!found.ok()) return found.error();
  if (process->port_ <= 0) {
    return MakeError(ErrorCode::kInternal, "controller did not start: " + process->Log());
  }
  return process;
}

bool ControllerProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    exit_status_ = status;
    return false;
  }
  return true;
}

bool ControllerProcess::Terminate() {
  if (!Running()) return WIFEXITED(exit_status_) && WEXITSTATUS(exit_status_) == 0;
  ::kill(pid_, SIGTERM);
  const Status exited = WaitFor(
      "controller exit", 20s, [&](std::string*) { return !Running(); }, 20ms);
  if (!exited.ok()) Kill();
  return exited.ok() && WIFEXITED(exit_status_) && WEXITSTATUS(exit_status_) == 0;
}

ControllerProcess::~ControllerProcess() {
  Terminate();
  // A TSan- or ASan-built controller may survive a report (SIGKILLed ones have
  // no exit status to show it), so the log is the evidence.
  const std::string report = SanitizerReport();
  if (!report.empty()) FAIL_CHECK("controller " << identity_ << ": " << report);
}

std::string ControllerProcess::SanitizerReport() const {
  const std::string log = Log();
  for (const char* marker : {"WARNING: ThreadSanitizer:", "ERROR: AddressSanitizer:",
                             "SUMMARY: UndefinedBehaviorSanitizer:"}) {
    const auto at = log.find(marker);
    if (at != std::string::npos) return log.substr(at, 6000);
  }
  return {};
}

void ControllerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  exit_status_ = status;
  pid_ = -1;
}

std::string ControllerProcess::Log() const {
  return ReadFile(log_path_);
}

std::string ControllerProcess::Tail() const {
  const std::string log = Log();
  return log.size() <= 3000 ? log : log.substr(log.size() - 3000);
}

std::optional<std::string> ControllerProcess::Get(const std::string& path) const {
  httplib::Client client("127.0.0.1", port_);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  auto response = client.Get(path);
  if (!response || response->status != 200) return std::nullopt;
  return response->body;
}

std::optional<double> ControllerProcess::Metric(
    std::string_view name, const std::map<std::string, std::string>& labels) const {
  auto text = Get("/metrics");
  if (!text) return std::nullopt;
  return FindMetric(*text, name, labels);
}

double ControllerProcess::MetricOr0(std::string_view name,
                                    const std::map<std::string, std::string>& labels) const {
  return Metric(name, labels).value_or(0);
}

int ControllerProcess::CountInLog(const std::string& text) const {
  const std::string log = Log();
  int count = 0;
  for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1))
    ++count;
  return count;
}

std::int64_t ControllerProcess::RssKib() const {
  if (pid_ <= 0) return 0;
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return 0;
}

namespace {

struct LogDir {
  fs::path path;
  int controllers = 0;
  LogDir() {
    std::string pattern = (fs::temp_directory_path() / "globalsvc-faults-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path = pattern;
  }
  ~LogDir() {
    if (!path.empty() && std::getenv("GLOBALSVC_KEEP_LOGS") == nullptr) {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  }
};

LogDir& Logs() {
  static LogDir dir;
  return dir;
}

}  // namespace

TestBed& SharedBed() {
  auto shared = TestBed::Shared(2);
  INFO((shared.ok() ? std::string() : shared.error().message));
  REQUIRE(shared.ok());
  return **shared;
}

Result<std::unique_ptr<ControllerProcess>> StartController(
    const std::string& identity, const std::string& lease,
    const std::vector<std::string>& extra_args, const fs::path& kubeconfig) {
  LogDir& logs = Logs();
  if (logs.path.empty()) return MakeError(ErrorCode::kInternal, "mkdtemp");
  ControllerProcessOptions options;
  options.log_path = logs.path / (std::to_string(++logs.controllers) + "-" + identity + ".log");
  options.kubeconfig = kubeconfig.empty() ? SharedBed().Kubeconfig("cluster1") : kubeconfig;
  options.identity = identity;
  options.lease = lease;
  options.extra_args = extra_args;
  std::printf("controller %s log: %s\n", identity.c_str(), options.log_path.c_str());
  return ControllerProcess::Start(options);
}

fs::path WriteTempFile(const std::string& name, const std::string& text) {
  const fs::path path = Logs().path / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

Status WaitForMetric(const ControllerProcess& process, const std::string& what,
                     const std::function<bool(const ControllerProcess&)>& condition,
                     std::chrono::milliseconds timeout) {
  return WaitFor(what + " on " + process.identity(), timeout, [&](std::string* why) {
    if (condition(process)) return true;
    *why = "metrics:\n" + process.Get("/metrics").value_or("(no answer)").substr(0, 4000);
    return false;
  });
}

// ---------------------------------------------------------------------------

Status ApplySecret(const TestBed& bed, const std::string& name, const std::string& kubeconfig) {
  return bed.Apply("cluster1", RemoteSecretYaml(name, "cluster2", kubeconfig));
}

Status DeleteSecret(const TestBed& bed, const std::string& name) {
  auto deleted = bed.Kubectl(
      "cluster1", {"delete", "secret", "-n", "istio-system", name, "--ignore-not-found"});
  return deleted.ok() ? Status(Ok{}) : MakeError(ErrorCode::kInternal, deleted.err);
}

void StartClean(const TestBed& bed) {
  REQUIRE_OK(PrepareGuideApp(bed));
  for (const char* label : {"globalsvc.solo.io/remote-cluster=true", "istio/multiCluster=true"}) {
    auto deleted = bed.Kubectl(
        "cluster1", {"delete", "secret", "-n", "istio-system", "-l", label, "--ignore-not-found"});
    INFO(deleted.err);
    REQUIRE(deleted.ok());
  }
  // With no remote Secret, cluster2's objects that an earlier controller left
  // would be this case's controller's to delete at start; a case counting
  // deletes starts without them.
  const std::string managed = "app.kubernetes.io/managed-by=globalsvc";
  auto endpoints = bed.Kubectl(
      "cluster1", {"delete", "workloadentries.networking.istio.io", "-A", "-l",
                   managed + ",topology.istio.io/cluster=cluster2", "--ignore-not-found"});
  INFO(endpoints.err);
  REQUIRE(endpoints.ok());
  // A bed without the Gateway API has no peer Gateway to delete.
  (void)bed.Kubectl("cluster1", {"delete", "gateways.gateway.networking.k8s.io", "-n",
                                 "istio-system", "-l", managed, "--ignore-not-found"});
}

Status WaitForRemoteObjectsGone(const TestBed& bed, const std::string& remote,
                                std::chrono::seconds timeout) {
  const std::string managed = "app.kubernetes.io/managed-by=globalsvc";
  return WaitFor(remote + "'s objects gone from cluster1", timeout, [&](std::string* why) {
    auto endpoints =
        bed.Kubectl("cluster1", {"get", "workloadentries.networking.istio.io", "-A", "-l",
                                 managed + ",topology.istio.io/cluster=" + remote, "-o", "name"});
    auto gateways = bed.Kubectl("cluster1", {"get", "gateways.gateway.networking.k8s.io", "-n",
                                             "istio-system", "-l", managed, "-o", "name"});
    *why = endpoints.out + gateways.out;
    // A bed without the Gateway API has no peer Gateway to wait for.
    return endpoints.ok() && endpoints.out.empty() && (!gateways.ok() || gateways.out.empty());
  });
}

EntryPoller::EntryPoller(const TestBed& bed,
                         std::function<std::string(const nlohmann::json*)> problem,
                         std::string name)
    : thread_(
          [this, &bed, problem = std::move(problem), name = std::move(name)](std::stop_token stop) {
            while (!stop.stop_requested()) {
              // A poll counts only when cluster1 answers: an API server
              // that is down says nothing about the ServiceEntry.
              auto got = ReadServiceEntry(bed, "cluster1", name);
              if (!got.ok()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                continue;
              }
              std::string bad = problem(got->has_value() ? &**got : nullptr);
              std::lock_guard lock(mutex_);
              ++polls_;
              if (!bad.empty() && misses_.size() < 20) misses_.push_back(std::move(bad));
            }
          }) {}

void EntryPoller::Stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

Status EntryPoller::StopAfter(int polls, std::chrono::seconds timeout) {
  const Status enough = WaitFor(std::to_string(polls) + " polls", timeout, [&](std::string* why) {
    *why = std::to_string(this->polls()) + " polls";
    return this->polls() >= polls;
  });
  Stop();
  return enough;
}

int EntryPoller::polls() {
  std::lock_guard lock(mutex_);
  return polls_;
}

std::vector<std::string> EntryPoller::misses() {
  std::lock_guard lock(mutex_);
  return misses_;
}

// ---------------------------------------------------------------------------

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (listen_fd_ < 0 ||
      ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    FAIL("the proxy cannot listen");
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::jthread([this](std::stop_token stop) { Accept(stop); });
}

TcpProxy::~TcpProxy() {
  closing_ = true;
  acceptor_.request_stop();
  if (acceptor_.joinable()) acceptor_.join();
  Cut();
  std::vector<std::jthread> pumps;
  {
    std::lock_guard lock(mutex_);
    pumps.swap(pumps_);
  }
  pumps.clear();  // joins: every pump ends once its sockets are shut down
  {
    std::lock_guard lock(mutex_);
    for (int fd : open_fds_)
      ::close(fd);
    open_fds_.clear();
  }
  ::close(listen_fd_);
}

void TcpProxy::Cut() {
  cut_ = true;
  std::lock_guard lock(mutex_);
  for (int fd : open_fds_)
    ::shutdown(fd, SHUT_RDWR);
}

void TcpProxy::Restore() {
  cut_ = false;
}

void TcpProxy::Stall() {
  stalled_ = true;
  silent_below_ = generation_.load();
}

void TcpProxy::Heal() {
  stalled_ = false;
}

void TcpProxy::Accept(std::stop_token stop) {
  while (!stop.stop_requested()) {
    pollfd waiting{listen_fd_, POLLIN, 0};
    if (::poll(&waiting, 1, 100) <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (cut_) {
      ::close(client);
      continue;
    }
    if (stalled_) {
      // Held open, never answered.
      std::lock_guard lock(mutex_);
      open_fds_.push_back(client);
      continue;
    }
    const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(target_port_));
    if (server < 0 ||
        ::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(client);
      if (server >= 0) ::close(server);
      continue;
    }
    ++connections_;
    std::lock_guard lock(mutex_);
    open_fds_.push_back(client);
    open_fds_.push_back(server);
    const std::uint64_t generation = generation_++;
    pumps_.emplace_back([this, client, server, generation] { Pump(client, server, generation); });
    pumps_.emplace_back([this, client, server, generation] { Pump(server, client, generation); });
  }
}

void TcpProxy::Pump(int from, int to, std::uint64_t generation) {
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = ::recv(from, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    if (const int delay = delay_ms_.load(); delay > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    if (cut_) break;
    if (generation < silent_below_) {
      // Silenced: nothing more passes, and nothing is closed either.
      while (!closing_ && !cut_)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      break;
    }
    ssize_t sent = 0;
    while (sent < n) {
      const ssize_t m = ::send(to, buffer + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
      if (m <= 0) break;
      sent += m;
    }
    if (sent < n) break;
  }
  // Either side ending ends both directions; the fds are closed with the proxy.
  ::shutdown(from, SHUT_RDWR);
  ::shutdown(to, SHUT_RDWR);
}

std::string KubeconfigThrough(const std::string& kubeconfig, int port) {
  std::istringstream lines(kubeconfig);
  std::string line;
  std::string out;
  while (std::getline(lines, line)) {
    const auto at = line.find("server: https://");
    if (at != std::string::npos)
      line = line.substr(0, at) + "server: https://127.0.0.1:" + std::to_string(port);
    out += line + "\n";
  }
  return out;
}

std::unique_ptr<kube::KubeClient> ApiClient(const TestBed& bed, const std::string& cluster) {
  auto config = kube::LoadKubeconfig(bed.Kubeconfig(cluster).string(), "");
  INFO((config.ok() ? std::string() : config.error().message));
  REQUIRE(config.ok());
  config->name = cluster;
  kube::TransportOptions transport;
  transport.qps = 1000;
  transport.burst = 1000;
  auto client = kube::KubeClient::Create(*config, kube::SystemClock::Instance(), transport);
  INFO((client.ok() ? std::string() : client.error().message));
  REQUIRE(client.ok());
  return std::move(*client);
}

Status ServerSideApply(kube::KubeClient& client, const nlohmann::json& object) {
  const std::string kind = object.value("kind", "");
  const kube::ResourceType& type = kind == "Service"         ? kube::resources::Services()
                                   : kind == "EndpointSlice" ? kube::resources::EndpointSlices()
                                                             : kube::resources::Deployments();
  const std::string ns = object["metadata"].value("namespace", "");
  return StatusOf(
      client.Apply(type, ns, object, kube::ApplyOptions{"globalsvc-fault-tests", true, ""}));
}

Result<std::int64_t> CompactEtcd(const TestBed& bed, const std::string& cluster) {
  const std::string url = "http://127.0.0.1:" + bed.ClusterValue(cluster, "ETCD_PORT");
  const auto range = testsupport::RunCommand(
      {"curl", "-sS", "-X", "POST", url + "/v3/kv/range", "-d", R"({"key":"AA=="})"});
  if (!range.ok()) return MakeError(ErrorCode::kInternal, "etcd range: " + range.err);
  auto parsed = nlohmann::json::parse(range.out, nullptr, false);
  if (parsed.is_discarded() || !parsed["header"].contains("revision")) {
    return MakeError(ErrorCode::kInternal, "etcd range: " + range.out);
  }
  const std::string revision = parsed["header"]["revision"].get<std::string>();
  const auto compact =
      testsupport::RunCommand({"curl", "-sS", "-X", "POST", url + "/v3/kv/compaction", "-d",
                               R"({"revision":")" + revision + R"(","physical":true})"});
  if (!compact.ok() || compact.out.find("error") != std::string::npos) {
    return MakeError(ErrorCode::kInternal, "etcd compaction: " + compact.out + compact.err);
  }
  return std::stoll(revision);
}

}  // namespace globalsvc::controller::testbed
