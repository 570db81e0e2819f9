// The MeshStore's overrides of what the plan uses of a remote cluster:
// carried-over endpoints stand in for an unsynced cluster, a withheld cluster
// (unreachable past --remote-stale-timeout) is left out and returns intact.

#include "controller/mesh_store.h"

#include <catch2/catch.hpp>

#include "lib/mesh/istio_objects.h"
#include "lib/mesh/peer_gateways.h"
#include "test/unit/controller/guide_store.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::controller {
namespace {

using testing::FillGuide;

std::vector<std::string> Clusters(const std::optional<mesh::ServiceEntry>& entry) {
  std::vector<std::string> out;
  if (!entry) return out;
  for (const auto& e : entry->endpoints)
    out.push_back(e.cluster + "/" + std::to_string(e.weight));
  return out;
}

std::optional<mesh::ServiceEntry> PlanGuide(const MeshStore& store) {
  mesh::PlanOptions options;
  options.target_cluster = "cluster1";
  mesh::Diagnostics diagnostics;
  return store.Plan("httpbin", "in-ambient", options, diagnostics);
}

TEST_CASE("A withheld cluster is left out of the plan and returns intact", "[mesh-store]") {
  MeshStore store;
  FillGuide(store, 2);
  CHECK(Clusters(PlanGuide(store)) == std::vector<std::string>{"cluster1/0", "cluster2/2"});

  store.SetWithheld("cluster2", true);
  CHECK(store.IsWithheld("cluster2"));
  CHECK(Clusters(PlanGuide(store)) == std::vector<std::string>{"cluster1/0"});
  // Its keys are still known, so they can be reconciled when it returns.
  CHECK(store.ServiceKeys("cluster2") == std::vector<std::string>{"httpbin/in-ambient"});

  store.SetWithheld("cluster2", false);
  CHECK(Clusters(PlanGuide(store)) == std::vector<std::string>{"cluster1/0", "cluster2/2"});
}

TEST_CASE("Carried endpoints stand in for a cluster until they are dropped", "[mesh-store]") {
  MeshStore store;
  FillGuide(store, 1);  // what a partial, unsynced listing might hold
  mesh::CarriedService carried;
  carried.ports = {{"http", 8000, "HTTP", 8080}};
  carried.traffic_distribution = "PreferNetwork";
  mesh::ServiceEntryEndpoint gateway;
  gateway.network = "cluster2-network";
  gateway.locality = "us-west-2/us-west-2a";
  gateway.weight = 5;
  gateway.cluster = "cluster2";
  carried.endpoints = {gateway};
  store.SetCarried("cluster2", {{"other/only-remote", carried}, {"httpbin/in-ambient", carried}});
  CHECK(store.HasCarried("cluster2"));
  CHECK(Clusters(PlanGuide(store)) == std::vector<std::string>{"cluster1/0", "cluster2/5"});
  // A service only the unsynced cluster exported keeps its entry.
  mesh::PlanOptions options;
  options.target_cluster = "cluster1";
  mesh::Diagnostics diagnostics;
  CHECK(Clusters(store.Plan("other", "only-remote", options, diagnostics)) ==
        std::vector<std::string>{"cluster2/5"});
  CHECK(store.ServiceKeys("cluster2") ==
        std::vector<std::string>{"httpbin/in-ambient", "other/only-remote"});

  // Withheld: carried endpoints go too.
  store.SetWithheld("cluster2", true);
  CHECK(Clusters(PlanGuide(store)) == std::vector<std::string>{"cluster1/0"});
  store.SetWithheld("cluster2", false);

  // Synced: its own state replaces them.
  store.SetCarried("cluster2", {});
  CHECK_FALSE(store.HasCarried("cluster2"));
  CHECK(Clusters(PlanGuide(store)) == std::vector<std::string>{"cluster1/0", "cluster2/1"});
  CHECK_FALSE(store.Plan("other", "only-remote", options, diagnostics));

  // Removing the cluster forgets all of it.
  store.SetCarried("cluster2", {{"httpbin/in-ambient", carried}});
  store.SetWithheld("cluster2", true);
  store.RemoveCluster("cluster2");
  CHECK_FALSE(store.HasCarried("cluster2"));
  CHECK_FALSE(store.IsWithheld("cluster2"));
  CHECK(Clusters(PlanGuide(store)) == std::vector<std::string>{"cluster1/0"});
}

TEST_CASE("An unsynced cluster's carried-over peer Gateway stays planned until it syncs",
          "[mesh-store]") {
  MeshStore store;
  // cluster1 knows no gateway of cluster2 yet: its listing is not done.
  store.Update("cluster1", [](mesh::ClusterState& state) { state.set_network("net1"); });
  store.Update("cluster2", [](mesh::ClusterState&) {});
  mesh::Diagnostics diagnostics;
  CHECK(store.PlanPeerGateways("cluster1", {}, diagnostics).empty());

  // What an earlier run wrote, read back from its object.
  const auto written = mesh::PeerGatewayFromJson(mesh::ToJson(
      mesh::PeerGateway{"globalsvc-remote-net2", "istio-system", "net2", "192.0.2.2", "cluster2"}));
  REQUIRE(written);
  CHECK(written->address == "192.0.2.2");
  CHECK(written->cluster == "cluster2");
  store.SetCarriedGateways("cluster2", {*written});
  // Without carried endpoints it carries nothing.
  CHECK(store.PlanPeerGateways("cluster1", {}, diagnostics).empty());
  mesh::CarriedService carried;
  carried.ports = {{"http", 8000, "HTTP", 8080}};
  store.SetCarried("cluster2", {{"httpbin/in-ambient", carried}});
  CHECK(store.PlanPeerGateways("cluster1", {}, diagnostics) ==
        std::vector<mesh::PeerGateway>{*written});
  // A network a cluster we hold has a gateway for takes that one.
  store.Update("cluster3", [](mesh::ClusterState& state) {
    state.set_network("net2");
    state.UpsertGateway({"ewgw", "net2", "r", "z", ""});
    state.UpsertGatewayAddress({"ewgw", "203.0.113.9"});
  });
  const auto both = store.PlanPeerGateways("cluster1", {}, diagnostics);
  REQUIRE(both.size() == 1);
  CHECK(both[0].address == "203.0.113.9");
  store.RemoveCluster("cluster3");
  // Withheld, or synced: gone.
  store.SetWithheld("cluster2", true);
  CHECK(store.PlanPeerGateways("cluster1", {}, diagnostics).empty());
  store.SetWithheld("cluster2", false);
  store.SetCarried("cluster2", {});
  CHECK(store.PlanPeerGateways("cluster1", {}, diagnostics).empty());
  // Not a peer Gateway of ours: nothing read back.
  CHECK_FALSE(mesh::PeerGatewayFromJson(nlohmann::json{{"kind", "Gateway"}}));
  CHECK_FALSE(mesh::PeerGatewayFromJson(nlohmann::json::array()));
}

}  // namespace
}  // namespace globalsvc::controller
