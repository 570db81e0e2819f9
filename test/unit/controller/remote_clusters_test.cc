// Which Secrets connect clusters: globalsvc's own label, and the legacy
// istiod one with a warning, through relabelling without a disconnect.

#include "controller/remote_clusters.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "controller/mesh_store.h"
#include "lib/observability/metrics.h"
#include "test/unit/kube/temp_dir.h"

namespace globalsvc::controller {
namespace {

// A Secret as `remote-secret` prints it for `cluster` (server unreachable:
// connecting only starts reflectors, which retry in the background), renamed
// and relabelled as a test needs.
nlohmann::json SecretFor(const std::string& cluster, const std::string& name, const char* label) {
  static const std::string ca = [] {
    kube::testing::TempDir dir;
    return kube::testing::MakeCertificate(dir, "remote-ca").certificate_pem;
  }();
  cli::RemoteAccess access;
  access.cluster_name = cluster;
  access.server = "https://127.0.0.1:9";
  access.certificate_authority_pem = ca;
  access.token = "token";
  auto secret = cli::BuildRemoteSecret(access, "istio-system");
  REQUIRE(secret.ok());
  (*secret)["metadata"]["name"] = name;
  (*secret)["metadata"]["labels"] = {{label, "true"}};
  return *secret;
}

struct RemoteClustersWorld {
  obs::Registry registry;
  ControllerMetrics metrics{registry};
  MeshStore store;
  RemoteClusters remotes;
  explicit RemoteClustersWorld(bool read_legacy = true)
      : remotes("cluster1", Template(), metrics, nullptr, "istio-system", read_legacy) {}
  ClusterConnectionOptions Template() {
    ClusterConnectionOptions options;
    options.store = &store;
    return options;
  }
  // Lists `secrets` through the sink of `label`, as its reflector would.
  void List(SecretLabel label, std::vector<nlohmann::json> secrets) {
    auto& sink = remotes.sink(label);
    sink.BeginReplace();
    for (auto& secret : secrets)
      sink.ReplaceItem(std::move(secret));
    sink.EndReplace();
  }
  std::map<std::string, std::string> SecretByCluster() const {
    std::map<std::string, std::string> out;
    for (const auto& status : remotes.Status())
      if (status.connected) out[status.cluster] = status.secret;
    return out;
  }
  std::vector<std::string> Warned(const std::string& reason) const {
    std::vector<std::string> out;
    for (const auto& problem : remotes.Problems())
      if (problem.reason == reason) out.push_back(problem.secret);
    return out;
  }
};

TEST_CASE(
    "Remote Secrets: globalsvc's own label connects; the legacy one still does, with a warning",
    "[controller][remote]") {
  RemoteClustersWorld world;
  world.List(SecretLabel::kOwn,
             {SecretFor("cluster2", "globalsvc-remote-cluster2", kRemoteSecretLabel)});
  CHECK_FALSE(world.remotes.synced());  // the legacy Secrets are not listed yet
  world.List(SecretLabel::kLegacy,
             {SecretFor("cluster2", "istio-remote-secret-cluster2", kLegacyRemoteSecretLabel),
              SecretFor("cluster3", "istio-remote-secret-cluster3", kLegacyRemoteSecretLabel)});
  CHECK(world.remotes.synced());
  // cluster2 from the new Secret, although a legacy one names it too.
  CHECK(world.SecretByCluster() ==
        std::map<std::string, std::string>{{"cluster2", "globalsvc-remote-cluster2"},
                                           {"cluster3", "istio-remote-secret-cluster3"}});
  CHECK(world.Warned("legacy-label") ==
        std::vector<std::string>{"istio-remote-secret-cluster2", "istio-remote-secret-cluster3"});
  CHECK(world.Warned("duplicate-cluster") ==
        std::vector<std::string>{"istio-remote-secret-cluster2"});
  CHECK(world.metrics.remote_secret_errors.Value(
            {"istio-remote-secret-cluster3", "legacy-label"}) >= 1);

  SECTION("relabelling a legacy Secret keeps its cluster connected and ends the warning") {
    auto relabelled = SecretFor("cluster3", "istio-remote-secret-cluster3", kRemoteSecretLabel);
    world.remotes.sink(SecretLabel::kOwn)
        .ApplyEvent(kube::WatchEventType::kAdded, std::move(relabelled));
    world.remotes.sink(SecretLabel::kLegacy)
        .ApplyEvent(
            kube::WatchEventType::kDeleted,
            SecretFor("cluster3", "istio-remote-secret-cluster3", kLegacyRemoteSecretLabel));
    CHECK(world.SecretByCluster().at("cluster3") == "istio-remote-secret-cluster3");
    CHECK(world.Warned("legacy-label") == std::vector<std::string>{"istio-remote-secret-cluster2"});
  }
  SECTION("a Secret with both labels is read once, and told to drop the legacy one") {
    auto both = SecretFor("cluster4", "both", kRemoteSecretLabel);
    both["metadata"]["labels"][kLegacyRemoteSecretLabel] = "true";
    world.remotes.sink(SecretLabel::kOwn)
        .ApplyEvent(kube::WatchEventType::kAdded, nlohmann::json(both));
    world.remotes.sink(SecretLabel::kLegacy)
        .ApplyEvent(kube::WatchEventType::kAdded, std::move(both));
    CHECK(world.SecretByCluster().at("cluster4") == "both");
    CHECK(world.Warned("duplicate-cluster") ==
          std::vector<std::string>{"istio-remote-secret-cluster2"});
    const auto warned = world.Warned("legacy-label");
    CHECK(std::count(warned.begin(), warned.end(), "both") == 1);
  }
  world.remotes.StopAll();
}

TEST_CASE("Remote Secrets: without legacy reading, only globalsvc's own label counts",
          "[controller][remote]") {
  RemoteClustersWorld world(/*read_legacy=*/false);
  world.List(SecretLabel::kOwn, {});
  CHECK(world.remotes.synced());  // no legacy list to wait for
  world.List(SecretLabel::kOwn,
             {SecretFor("cluster2", "globalsvc-remote-cluster2", kRemoteSecretLabel)});
  CHECK(world.SecretByCluster() ==
        std::map<std::string, std::string>{{"cluster2", "globalsvc-remote-cluster2"}});
  CHECK(world.Warned("legacy-label").empty());
  world.remotes.StopAll();
}

}  // namespace
}  // namespace globalsvc::controller
