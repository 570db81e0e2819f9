// The peer Gateways planned for remote networks, from their east-west gateways'
// addresses.

#include <catch2/catch.hpp>
#include <regex>

#include "lib/mesh/istio_objects.h"
#include "lib/mesh/peer_gateways.h"
#include "test/unit/mesh/istio_objects_test_support.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using namespace testing;
using nlohmann::json;

TEST_CASE("One peer Gateway per remote network, from its east-west gateway's address",
          "[mesh][objects]") {
  GuideWithPods world;
  ClusterState cluster3{"cluster3", "cluster3-network"};
  cluster3.UpsertGateway({"ew-b", "cluster3-network", "eu-west-1", "eu-west-1b", ""});
  cluster3.UpsertGateway({"ew-a", "cluster3-network", "eu-west-1", "eu-west-1a", ""});
  cluster3.UpsertGatewayAddress({"ew-b", "ew-b.elb.example.com"});
  // A flat remote on cluster1's network needs no peer Gateway.
  ClusterState flat{"cluster4", "cluster1-network"};
  flat.UpsertGateway({"ew", "cluster1-network", "us-east-1", "us-east-1a", ""});
  flat.UpsertGatewayAddress({"ew", "203.0.113.40"});
  world.cluster1.UpsertGatewayAddress({"istio-eastwestgateway", "203.0.113.10"});
  std::vector<const ClusterState*> clusters = {&flat, &cluster3, &world.cluster2, &world.cluster1};

  Diagnostics diagnostics;
  ShapeOptions options;
  const auto gateways = PlanPeerGateways(clusters, "cluster1", options, diagnostics);
  CHECK(diagnostics.empty());
  REQUIRE(gateways.size() == 2);
  CHECK(gateways[0] == PeerGateway{"globalsvc-remote-cluster2-network", "istio-system",
                                   "cluster2-network", "203.0.113.20", "cluster2"});
  // ew-a has no address, so ew-b stands for the network.
  CHECK(gateways[1] == PeerGateway{"globalsvc-remote-cluster3-network", "istio-system",
                                   "cluster3-network", "ew-b.elb.example.com", "cluster3"});

  const json ip = ToJson(gateways[0]);
  CHECK(ip["kind"] == "Gateway");
  CHECK(ip["apiVersion"] == "gateway.networking.k8s.io/v1");
  CHECK(ip["metadata"]["labels"][kNetworkLabel] == "cluster2-network");
  CHECK(ip["metadata"]["labels"][kManagedByLabel] == "globalsvc");
  CHECK(ip["spec"]["gatewayClassName"] == "istio-remote");
  CHECK(ip["spec"]["addresses"] ==
        json::array({{{"type", "IPAddress"}, {"value", "203.0.113.20"}}}));
  CHECK(ip["spec"]["listeners"][0]["protocol"] == "HBONE");
  CHECK(ip["spec"]["listeners"][0]["port"] == 15008);
  CHECK(ToJson(gateways[1])["spec"]["addresses"][0]["type"] == "Hostname");

  // A remote pinned onto our network is flat, whatever its gateway's label.
  ClusterState pinned{"cluster5", "cluster1-network"};
  pinned.UpsertGateway({"ew", "cluster5-network", "", "", ""});
  pinned.UpsertGatewayAddress({"ew", "192.0.2.5"});
  std::vector<const ClusterState*> with_pinned = clusters;
  with_pinned.push_back(&pinned);
  CHECK(PlanPeerGateways(with_pinned, "cluster1", options, diagnostics).size() == 2);

  // From cluster2's side, cluster1 and cluster4 share a network: one Gateway.
  diagnostics.clear();
  // A cluster we do not hold gets nothing planned.
  CHECK(PlanPeerGateways(clusters, "no-such-cluster", options, diagnostics).empty());
  const auto from2 = PlanPeerGateways(clusters, "cluster2", options, diagnostics);
  std::vector<std::string> networks;
  for (const auto& g : from2)
    networks.push_back(g.network + "@" + g.cluster);
  CHECK(networks ==
        std::vector<std::string>{"cluster1-network@cluster1", "cluster3-network@cluster3"});
}

TEST_CASE("A remote network without a gateway address gets no peer Gateway and a warning",
          "[mesh][objects]") {
  GuideWorld world;  // cluster2's gateway has no Service address
  Diagnostics diagnostics;
  const auto gateways = PlanPeerGateways(world.clusters(), "cluster1", ShapeOptions{}, diagnostics);
  CHECK(gateways.empty());
  REQUIRE(diagnostics.size() == 1);
  CHECK(diagnostics[0].code == DiagnosticCode::kNoGatewayAddress);
  CHECK(diagnostics[0].object.cluster == "cluster2");
  CHECK(diagnostics[0].message.find("cluster2/istio-eastwestgateway") != std::string::npos);
  // A network name that is no DNS label still gives a valid object name.
  ClusterState odd{"odd", "Network_One"};
  odd.UpsertGateway({"ew", "Network_One", "", "", ""});
  odd.UpsertGatewayAddress({"ew", "192.0.2.1"});
  std::vector<const ClusterState*> clusters = {&world.cluster1, &odd};
  const auto named = PlanPeerGateways(clusters, "cluster1", ShapeOptions{}, diagnostics);
  REQUIRE(named.size() == 1);
  CHECK(std::regex_match(named[0].name, std::regex("globalsvc-remote-[0-9a-f]{10}")));
}

}  // namespace
}  // namespace globalsvc::mesh
