#pragma once

// Access to the running test bed for the kube integration tests: its first
// cluster's admin kubeconfig, clients, scratch namespaces and faults.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "lib/kube/kube_client.h"
#include "lib/kube/kubeconfig.h"
#include "test/support/testbed.h"

namespace globalsvc::kube::testing {

struct KubeTestBed {
  std::unique_ptr<testsupport::TestBed> bed;
  std::string cluster;   // the first cluster's name
  ClusterConfig config;  // its admin kubeconfig
};

// The attached test bed; fails the test (with how to start one) when there
// is none. Never skips: these tests must not pass without servers.
KubeTestBed& RequireTestBed();

// A client for `config` with no client-side rate limit (tests create
// thousands of objects).
// Transport options without a client-side rate limit (qps 0).
inline TransportOptions UnlimitedTransport() {
  TransportOptions options;
  options.qps = 0;
  options.burst = 1;
  return options;
}

std::unique_ptr<KubeClient> MakeClient(const ClusterConfig& config,
                                       TransportOptions options = UnlimitedTransport());

// A namespace created for one test and deleted after it.
class ScratchNamespace {
 public:
  ScratchNamespace(KubeClient& client, const std::string& prefix);
  ~ScratchNamespace();
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  KubeClient& client_;
  std::string name_;
};

// Polls `condition` every 50 ms until true or the deadline; returns whether
// it became true.
bool Eventually(std::chrono::milliseconds timeout, const std::function<bool()>& condition);

// A ConfigMap labelled globalsvc-test=kube (kTestSelector selects them, and
// not the kube-root-ca.crt ConfigMap that appears in every namespace).
inline constexpr const char* kTestSelector = "globalsvc-test=kube";
nlohmann::json ConfigMap(const std::string& namespace_name, const std::string& name,
                         const std::string& value);

}  // namespace globalsvc::kube::testing
