#include "test/integration/kube_test_bed.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <random>
#include <thread>

namespace globalsvc::kube::testing {

KubeTestBed& RequireTestBed() {
  static KubeTestBed* shared = []() -> KubeTestBed* {
    const char* env = std::getenv("GLOBALSVC_TESTBED_DIR");
    const std::filesystem::path dir = env != nullptr && *env != '\0'
                                          ? std::filesystem::path(env)
                                          : testsupport::SourceDir() / ".testbed";
    auto bed = testsupport::TestBed::Attach(dir);
    if (!bed.ok()) {
      FAIL_CHECK("no test bed in " << dir.string() << ": " << bed.error().message
                                   << "\nStart one with `scripts/testbed up` (scripts/test does) "
                                      "or point GLOBALSVC_TESTBED_DIR at a running one.");
      return nullptr;
    }
    auto* result = new KubeTestBed;
    result->bed = std::move(*bed);
    result->cluster = result->bed->clusters().front();
    auto config = LoadKubeconfigFiles({result->bed->Kubeconfig(result->cluster).string()});
    if (!config.ok()) {
      FAIL_CHECK("test bed kubeconfig: " << config.error().message);
      return nullptr;
    }
    result->config = std::move(*config);
    return result;
  }();
  if (shared == nullptr) FAIL("no usable test bed (see above)");
  return *shared;
}

std::unique_ptr<KubeClient> MakeClient(const ClusterConfig& config, TransportOptions options) {
  auto client = KubeClient::Create(config, SystemClock::Instance(), std::move(options));
  REQUIRE(client.ok());
  return std::move(*client);
}

ScratchNamespace::ScratchNamespace(KubeClient& client, const std::string& prefix)
    : client_(client) {
  std::random_device random;
  name_ = prefix + "-" + std::to_string(random() % 1'000'000);
  auto created = client_.Create(
      resources::Namespaces(), "",
      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name_}}}});
  REQUIRE(created.ok());
}

ScratchNamespace::~ScratchNamespace() {
  (void)client_.Delete(resources::Namespaces(), "", name_);
}

bool Eventually(std::chrono::milliseconds timeout, const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

nlohmann::json ConfigMap(const std::string& namespace_name, const std::string& name,
                         const std::string& value) {
  return {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       {{"name", name}, {"namespace", namespace_name}, {"labels", {{"globalsvc-test", "kube"}}}}},
      {"data", {{"value", value}}}};
}

}  // namespace globalsvc::kube::testing
