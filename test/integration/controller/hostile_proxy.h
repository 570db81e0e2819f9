#pragma once

// The hostile remote of the fault tests: the hostile-proxy binary
// (test/testbed/hostile-proxy) as a child process. It is a TLS proxy on
// 127.0.0.1 in front of a real API server of the test bed that forwards
// everything until told to rewrite the answers (wrong JSON types, non-UTF-8
// errors, endless or huge lists, hostile addresses, stalls, black holes).
// No Catch macros here: usable from any thread.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lib/base/result.h"

namespace globalsvc::controller::testbed {

class HostileProxy {
 public:
  // Starts the proxy in front of the API server of `upstream_kubeconfig` (an
  // admin kubeconfig of the test bed, certificates embedded) and waits, 30 s
  // at most, until it listens. `extra_args` go to the binary (for example
  // {"--claim-network", "cluster2-network"}). The proxy is killed when the
  // thread that started it exits (PR_SET_PDEATHSIG), as the controllers are.
  static Result<std::unique_ptr<HostileProxy>> Start(
      const std::filesystem::path& upstream_kubeconfig, std::vector<std::string> extra_args = {});

  HostileProxy(const HostileProxy&) = delete;
  HostileProxy& operator=(const HostileProxy&) = delete;
  // SIGTERM, SIGKILL after 5 s, reaped; its state folder is removed (kept
  // with its log when GLOBALSVC_KEEP_LOGS is set).
  ~HostileProxy();

  // The TLS port clients use (https://127.0.0.1:<port>).
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] int control_port() const { return control_port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }

  // The mode of new requests ("pass", "wrong-types", "latin1-error",
  // "latin1-status", "retry-after", "endless-continue", "huge-list",
  // "many-objects", "hostile-addresses", "stall", "blackhole"), restricted to
  // URL paths containing `match` when it is not empty. Responses still
  // streaming under another mode (watches, stalls) are cut.
  Status SetMode(const std::string& mode, const std::string& match = "");
  // Requests seen per mode, {"pass": n, ...}.
  [[nodiscard]] Result<nlohmann::json> Stats() const;

  // A kubeconfig (YAML text) whose cluster `cluster_name` is the proxy,
  // trusted through its CA, with a bearer token the proxy ignores (it acts
  // upstream as the test bed's admin).
  [[nodiscard]] std::string Kubeconfig(const std::string& cluster_name) const;
  // The proxy's log (its stderr).
  [[nodiscard]] std::string Log() const;

 private:
  HostileProxy() = default;
  bool Running();

  std::filesystem::path state_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int control_port_ = 0;
  std::string ca_pem_;
};

}  // namespace globalsvc::controller::testbed
