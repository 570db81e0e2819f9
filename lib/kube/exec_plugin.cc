#include "lib/kube/exec_plugin.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "lib/base/rfc3339.h"
#include "lib/base/utf8.h"
#include "lib/kube/pem.h"

extern char** environ;

namespace globalsvc::kube {
namespace {

using nlohmann::json;

std::string ExecInfo(const ExecPluginConfig& plugin, const ClusterConfig& cluster) {
  json info = {{"apiVersion", plugin.api_version},
               {"kind", "ExecCredential"},
               {"spec", {{"interactive", false}}}};
  if (plugin.provide_cluster_info) {
    json cluster_info = {{"server", cluster.server}};
    if (!cluster.tls_server_name.empty()) cluster_info["tls-server-name"] = cluster.tls_server_name;
    if (cluster.insecure_skip_tls_verify) cluster_info["insecure-skip-tls-verify"] = true;
    if (!cluster.certificate_authority_pem.empty()) {
      // []byte fields are base64 in JSON.
      cluster_info["certificate-authority-data"] = EncodeBase64(cluster.certificate_authority_pem);
    }
    info["spec"]["cluster"] = std::move(cluster_info);
  }
  return info.dump();
}

// Reads both pipes until both close or the deadline passes.
bool Drain(int out_fd, int err_fd, std::string& out, std::string& err,
           std::chrono::steady_clock::time_point deadline) {
  std::vector<pollfd> fds = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open = 2;
  char buffer[4096];
  while (open > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    const int ready = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        std::string& target = i == 0 ? out : err;
        if (target.size() < (1u << 20)) target.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  return true;
}

}  // namespace

Result<ExecCredential> ParseExecCredential(std::string_view output,
                                           std::string_view expected_api_version) {
  const json doc = json::parse(output.begin(), output.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return MakeError(ErrorCode::kUnauthorized, "exec plugin printed no ExecCredential JSON");
  }
  if (doc.value("kind", "") != "ExecCredential") {
    return MakeError(ErrorCode::kUnauthorized, "exec plugin output: kind must be ExecCredential");
  }
  if (doc.value("apiVersion", "") != expected_api_version) {
    return MakeError(ErrorCode::kUnauthorized,
                     "exec plugin output: apiVersion must be " + std::string(expected_api_version));
  }
  const auto status = doc.find("status");
  if (status == doc.end() || !status->is_object()) {
    return MakeError(ErrorCode::kUnauthorized, "exec plugin output: status missing");
  }
  ExecCredential credential;
  credential.token = status->value("token", "");
  credential.client_certificate_pem = status->value("clientCertificateData", "");
  credential.client_key_pem = status->value("clientKeyData", "");
  if (credential.token.empty() && credential.client_certificate_pem.empty()) {
    return MakeError(ErrorCode::kUnauthorized,
                     "exec plugin output: status has neither token nor clientCertificateData");
  }
  if (credential.client_certificate_pem.empty() != credential.client_key_pem.empty()) {
    return MakeError(ErrorCode::kUnauthorized,
                     "exec plugin output: clientCertificateData and clientKeyData go together");
  }
  if (!credential.client_certificate_pem.empty() &&
      (!IsCertificatePem(credential.client_certificate_pem) ||
       !IsPrivateKeyPem(credential.client_key_pem))) {
    return MakeError(ErrorCode::kUnauthorized,
                     "exec plugin output: clientCertificateData/clientKeyData are not PEM");
  }
  if (auto expiry = status->find("expirationTimestamp");
      expiry != status->end() && !expiry->is_null()) {
    std::optional<std::chrono::system_clock::time_point> parsed;
    if (expiry->is_string()) parsed = ParseRfc3339(expiry->get<std::string>());
    if (!parsed) {
      return MakeError(ErrorCode::kUnauthorized,
                       "exec plugin output: status.expirationTimestamp is not RFC 3339");
    }
    credential.expiration = parsed;
  }
  return credential;
}

namespace {

// Ours, but KUBERNETES_EXEC_INFO is the plugin's, then the plugin's own.
std::vector<std::string> PluginEnvironment(const ExecPluginConfig& plugin,
                                           const ClusterConfig& cluster) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.substr(0, 21) == "KUBERNETES_EXEC_INFO=") continue;
    env.emplace_back(entry);
  }
  for (const auto& [name, value] : plugin.env)
    env.push_back(name + "=" + value);
  env.push_back("KUBERNETES_EXEC_INFO=" + ExecInfo(plugin, cluster));
  return env;
}

// argv/envp for posix_spawn: pointers into `strings`, then a null.
std::vector<char*> PointersTo(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings)
    pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// A plugin that failed: its status and the start of what it said (valid
// UTF-8, bounded).
Error ExitError(const std::string& context, int wait_status, const std::string& err) {
  std::string said = ShortUtf8(err, 300);
  while (!said.empty() && (said.back() == '\n' || said.back() == ' '))
    said.pop_back();
  return MakeError(ErrorCode::kUnauthorized,
                   context + ": exited with status " +
                       std::to_string(WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1) +
                       (said.empty() ? "" : ": " + said));
}

}  // namespace

Result<ExecCredential> RunExecPlugin(const ExecPluginConfig& plugin, const ClusterConfig& cluster,
                                     std::chrono::milliseconds timeout) {
  const std::string context = "exec plugin " + plugin.command + " for cluster " + cluster.name;
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0)
    return MakeError(ErrorCode::kInternal, context + ": pipe failed");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return MakeError(ErrorCode::kInternal, context + ": pipe failed");
  }

  std::vector<std::string> env_strings = PluginEnvironment(plugin, cluster);
  std::vector<char*> envp = PointersTo(env_strings);
  std::vector<std::string> arg_strings = {plugin.command};
  arg_strings.insert(arg_strings.end(), plugin.args.begin(), plugin.args.end());
  std::vector<char*> argv = PointersTo(arg_strings);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  pid_t pid = 0;
  const int spawn_error = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (spawn_error != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    std::string message = context + ": cannot start: " + std::strerror(spawn_error);
    if (!plugin.install_hint.empty()) message += " (" + plugin.install_hint + ")";
    return MakeError(ErrorCode::kUnauthorized, message);
  }

  std::string out;
  std::string err;
  const bool finished =
      Drain(out_pipe[0], err_pipe[0], out, err, std::chrono::steady_clock::now() + timeout);
  close(out_pipe[0]);
  close(err_pipe[0]);
  if (!finished) kill(pid, SIGKILL);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (!finished) {
    return MakeError(ErrorCode::kUnavailable,
                     context + ": timed out after " + std::to_string(timeout.count()) + " ms");
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return ExitError(context, wait_status, err);
  }
  auto credential = ParseExecCredential(out, plugin.api_version);
  if (!credential.ok()) {
    return MakeError(credential.error().code, context + ": " + credential.error().message);
  }
  return credential;
}

}  // namespace globalsvc::kube
