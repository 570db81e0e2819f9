// The client's connections against a server that closes idle ones sooner than
// the API server does (the hostile proxy, after 1 s): a request after a quiet
// spell must not fail on a connection the server has already closed. The API
// server closes its own after 90 s, so a controller on a quiet mesh meets
// this at every write.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "lib/kube/clock.h"
#include "lib/kube/kube_client.h"
#include "lib/kube/kubeconfig.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/integration/controller/fault_support.h"
#include "test/integration/controller/hostile_proxy.h"

namespace globalsvc::controller {
namespace {

using namespace testbed;
using namespace std::chrono_literals;

struct ClosingServer {
  std::unique_ptr<HostileProxy> proxy;
  std::unique_ptr<kube::KubeClient> client;
};

// A client of cluster2 through a proxy that closes connections idle for 1 s.
ClosingServer Connect(kube::Clock& clock) {
  testsupport::TestBed& bed = SharedBed();
  ClosingServer server;
  auto proxy = HostileProxy::Start(bed.Kubeconfig("cluster2"), {"--idle-timeout", "1s"});
  REQUIRE_OK(StatusOf(proxy));
  server.proxy = std::move(*proxy);
  auto config = kube::ParseKubeconfig(server.proxy->Kubeconfig("cluster2"), "proxy", "");
  REQUIRE_OK(StatusOf(config));
  auto client = kube::KubeClient::Create(*config, clock);
  REQUIRE_OK(StatusOf(client));
  server.client = std::move(*client);
  return server;
}

nlohmann::json ConfigMap(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"data", {{"k", "v"}}}};
}

TEST_CASE("A read after the server closed the idle connection is sent again on a new one",
          "[kube][faults][hostile][testbed]") {
  ClosingServer server = Connect(kube::SystemClock::Instance());
  for (int quiet_spell = 0; quiet_spell < 3; ++quiet_spell) {
    INFO("after quiet spell " << quiet_spell);
    REQUIRE_OK(StatusOf(server.client->Get(kube::resources::Namespaces(), "", "kube-system")));
    std::this_thread::sleep_for(2500ms);  // the proxy closes the pooled connection
  }
  REQUIRE_OK(StatusOf(server.client->Get(kube::resources::Namespaces(), "", "kube-system")));
}

TEST_CASE("A create after a long quiet spell goes out on a new connection",
          "[kube][faults][hostile][testbed]") {
  // A create is not sent twice (the server may have served it before the
  // connection broke), so it must not meet a connection that sat idle long
  // enough for the server to close it.
  kube::ManualClock clock;
  ClosingServer server = Connect(clock);
  const std::string prefix = "idle-" + std::to_string(::getpid()) + "-";
  REQUIRE_OK(StatusOf(server.client->Create(kube::resources::ConfigMaps(), "default",
                                            ConfigMap(prefix + "first"))));
  std::this_thread::sleep_for(2500ms);  // the proxy closes the pooled connection
  clock.Advance(60s);                   // longer than the transport keeps idle connections
  CHECK_OK(StatusOf(server.client->Create(kube::resources::ConfigMaps(), "default",
                                          ConfigMap(prefix + "second"))));
  for (const char* name : {"first", "second"})
    (void)server.client->Delete(kube::resources::ConfigMaps(), "default", prefix + name);
}

}  // namespace
}  // namespace globalsvc::controller
