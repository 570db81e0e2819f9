#include "test/bench/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include "test/bench/support/report.h"
#include "test/bench/support/watchers.h"
#include "test/bench/support/world.h"

namespace globalsvc::bench {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

long ProcessRssKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

double ProcessCpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto name_end = text.rfind(')');
  if (name_end == std::string::npos) return 0;
  std::istringstream fields(text.substr(name_end + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string HttpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string body;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
    (void)::write(fd, request.data(), request.size());
    char buffer[65536];
    ssize_t n = 0;
    while ((n = ::read(fd, buffer, sizeof(buffer))) > 0)
      body.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return body;
}

std::string HttpBody(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : response.substr(at + 4);
}

double MetricSum(const std::string& metrics, const std::string& name,
                 const std::string& must_contain) {
  std::istringstream lines(metrics);
  double total = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(name) || line.size() <= name.size()) continue;
    if (const char next = line[name.size()]; next != ' ' && next != '{') continue;
    if (line.find(must_contain) == std::string::npos) continue;
    total += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
  }
  return total;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t length = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(fd);
  return ntohs(addr.sin_port);
}

void ControllerProcess::Start(const ControllerOptions& options, const std::string& cluster,
                              int metrics_port) {
  port = metrics_port;
  log = fs::temp_directory_path() /
        ("bench-globalsvc-" + cluster + "-" + std::to_string(getpid()) + ".log");
  const std::string kubeconfig = (options.testbed / cluster / "kubeconfig").string();
  const std::string addr = "127.0.0.1:" + std::to_string(port);
  std::vector<std::string> argv;
  std::istringstream wrap(options.wrap);
  for (std::string word; wrap >> word;)
    argv.push_back(word);
  for (const std::string& word :
       {options.globalsvc, std::string("controller"), std::string("--cluster-name"), cluster,
        std::string("--kubeconfig"), kubeconfig, std::string("--metrics-addr"), addr,
        std::string("--leader-elect"), std::string("false"), std::string("--qps"), std::string("0"),
        std::string("--workers"), std::string("2"), std::string("--log-level"), std::string("warn"),
        std::string("--object-shape"), options.object_shape}) {
    argv.push_back(word);
  }
  std::vector<char*> pointers;
  for (auto& word : argv)
    pointers.push_back(word.data());
  pointers.push_back(nullptr);
  pid = fork();
  if (pid > 0) SetRunningChild(pid);
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) ::dup2(fd, 2);
    execvp(pointers[0], pointers.data());
    _exit(127);
  }
}

void ControllerProcess::Stop() {
  if (pid <= 0) return;
  SetRunningChild(-1);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  pid = -1;
}

void ControllerProcess::CheckAlive() {
  if (pid <= 0) return;
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) {
    pid = -1;
    SetRunningChild(-1);
    Die("the controller exited (status " + std::to_string(status) + "); log: " + log.string() +
        "\n" + ReadFile(log).substr(0, 4000));
  }
}

std::string ControllerProcess::Metrics() const {
  return HttpGet(port, "/metrics");
}

double ControllerProcess::Metric(const std::string& series) const {
  return MetricSum(Metrics(), series);
}

bool ControllerProcess::Ready() const {
  return Metrics().find("globalsvc_leader 1") != std::string::npos;
}

void WaitForController(ControllerProcess& controller, EntryWatcher& watcher, int services,
                       int weight) {
  const auto limit = 900s + std::chrono::seconds(services / 10);
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    controller.CheckAlive();
    if (controller.Ready() &&
        watcher.CountWithWeight(weight) >= static_cast<std::size_t>(services)) {
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
  Die("controller did not converge within " + std::to_string(limit.count()) +
      " s; log: " + controller.log.string());
}

void WaitForMetric(ControllerProcess& controller, const std::string& series, double value) {
  const auto deadline = Clock::now() + 900s;
  while (controller.Metric(series) < value) {
    controller.CheckAlive();
    if (Clock::now() > deadline) Die(series + " did not reach its value within 900 s");
    std::this_thread::sleep_for(50ms);
  }
}

void WaitReadyAndSettle(ControllerProcess& controller) {
  const auto deadline = Clock::now() + 300s;
  while (!controller.Ready()) {
    controller.CheckAlive();
    if (Clock::now() > deadline) Die("controller not ready within 300 s");
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(2s);
}

}  // namespace globalsvc::bench
