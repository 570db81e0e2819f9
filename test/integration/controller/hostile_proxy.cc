#include "test/integration/controller/hostile_proxy.h"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "lib/kube/pem.h"
#include "test/integration/controller/child_process.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/support/testbed.h"

namespace globalsvc::controller::testbed {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The value of `key=` in the ports file, 0 when absent.
int PortIn(const std::string& ports, const std::string& key) {
  std::istringstream lines(ports);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key + "=", 0) == 0) return std::atoi(line.c_str() + key.size() + 1);
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<HostileProxy>> HostileProxy::Start(const fs::path& upstream_kubeconfig,
                                                          std::vector<std::string> extra_args) {
  std::unique_ptr<HostileProxy> proxy(new HostileProxy);
  std::string pattern = (fs::temp_directory_path() / "globalsvc-hostile-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return MakeError(ErrorCode::kInternal, "mkdtemp");
  proxy->state_dir_ = pattern;

  std::vector<std::string> args = {GLOBALSVC_HOSTILE_PROXY, "--upstream-kubeconfig",
                                   upstream_kubeconfig.string(), "--state-dir",
                                   proxy->state_dir_.string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto pid = SpawnLogged(std::move(args), proxy->state_dir_ / "proxy.log");
  if (!pid.ok()) return pid.error();
  proxy->pid_ = *pid;

  // ca.crt is written first, then ports (renamed into place, so it is whole).
  const fs::path ports_path = proxy->state_dir_ / "ports";
  Status listening = testsupport::WaitFor("the hostile proxy's ports", 30s, [&](std::string* why) {
    const std::string ports = ReadFile(ports_path);
    proxy->port_ = PortIn(ports, "proxy");
    proxy->control_port_ = PortIn(ports, "control");
    if (proxy->port_ > 0 && proxy->control_port_ > 0) return true;
    if (!proxy->Running()) {
      *why = "exited: " + proxy->Log().substr(0, 2000);
      return true;
    }
    *why = "no ports file yet";
    return false;
  });
  if (!listening.ok()) return listening.error();
  if (proxy->port_ <= 0 || proxy->control_port_ <= 0) {
    return MakeError(ErrorCode::kInternal, "the hostile proxy did not start: " + proxy->Log());
  }
  proxy->ca_pem_ = ReadFile(proxy->state_dir_ / "ca.crt");
  if (proxy->ca_pem_.empty()) return MakeError(ErrorCode::kInternal, "the hostile proxy's ca.crt");
  return proxy;
}

bool HostileProxy::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

HostileProxy::~HostileProxy() {
  if (Running()) {
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (Running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }
  if (!state_dir_.empty() && std::getenv("GLOBALSVC_KEEP_LOGS") == nullptr) {
    std::error_code ignored;
    fs::remove_all(state_dir_, ignored);
  }
}

Status HostileProxy::SetMode(const std::string& mode, const std::string& match) {
  httplib::Client client("127.0.0.1", control_port_);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  // A form body: the match may hold any character of a URL path.
  const httplib::Params params = {{"name", mode}, {"match", match}};
  auto response = client.Post("/mode", params);
  if (!response) {
    return MakeError(ErrorCode::kUnavailable, "hostile proxy: set mode " + mode + ": " +
                                                  httplib::to_string(response.error()));
  }
  if (response->status != 200) {
    while (!response->body.empty() && response->body.back() == '\n')
      response->body.pop_back();
    return MakeError(ErrorCode::kInvalidInput, "hostile proxy: set mode " + mode + ": HTTP " +
                                                   std::to_string(response->status) + " " +
                                                   response->body);
  }
  return Ok{};
}

Result<nlohmann::json> HostileProxy::Stats() const {
  httplib::Client client("127.0.0.1", control_port_);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  auto response = client.Get("/stats");
  if (!response || response->status != 200) {
    return MakeError(ErrorCode::kUnavailable, "hostile proxy: no stats");
  }
  auto stats = nlohmann::json::parse(response->body, nullptr, false);
  if (stats.is_discarded()) {
    return MakeError(ErrorCode::kInternal, "hostile proxy: stats: " + response->body);
  }
  return stats;
}

std::string HostileProxy::Kubeconfig(const std::string& cluster_name) const {
  std::string yaml = "apiVersion: v1\nkind: Config\nclusters:\n";
  yaml += "- name: " + cluster_name + "\n  cluster:\n";
  yaml += "    server: https://127.0.0.1:" + std::to_string(port_) + "\n";
  yaml += "    certificate-authority-data: " + kube::EncodeBase64(ca_pem_) + "\n";
  yaml += "users:\n- name: hostile-proxy\n  user:\n    token: hostile-proxy-token\n";
  yaml += "contexts:\n- name: " + cluster_name + "\n  context:\n";
  yaml += "    cluster: " + cluster_name + "\n    user: hostile-proxy\n";
  yaml += "current-context: " + cluster_name + "\n";
  return yaml;
}

std::string HostileProxy::Log() const {
  return ReadFile(state_dir_ / "proxy.log");
}

}  // namespace globalsvc::controller::testbed
