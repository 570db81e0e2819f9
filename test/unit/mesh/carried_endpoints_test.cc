// Carried-over endpoints: reading what an earlier run wrote into the local
// ServiceEntries, and merging one unsynced cluster's part back into a plan.

#include "lib/mesh/carried_endpoints.h"

#include <catch2/catch.hpp>

#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using testing::GlobalService;
using testing::GuideWorld;
using testing::ReadyEndpoint;
using testing::Slice;

ServiceEntryEndpoint GatewayEndpoint(const std::string& cluster, std::uint32_t weight) {
  ServiceEntryEndpoint endpoint;
  endpoint.network = cluster + "-network";
  endpoint.locality = "us-west-2/us-west-2a";
  endpoint.weight = weight;
  endpoint.cluster = cluster;
  return endpoint;
}

// The guide's service planned in cluster1 with cluster2 connected.
ServiceEntry GuideEntry() {
  GuideWorld world;
  world.cluster1.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster1.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1", {ReadyEndpoint("10.1.0.1", "node-1")}));
  world.cluster2.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster2.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s2",
            {ReadyEndpoint("10.2.0.1", "node-1"), ReadyEndpoint("10.2.0.2", "node-1")}));
  Diagnostics diagnostics;
  auto entry = testing::PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(entry);
  return *entry;
}

TEST_CASE("A ServiceEntry read back from its JSON equals what was written", "[carried]") {
  const ServiceEntry entry = GuideEntry();
  nlohmann::json stored = ToJson(entry);
  // What the API server and other writers add does not matter.
  stored["metadata"]["uid"] = "u-1";
  stored["metadata"]["labels"]["team"] = "a";
  stored["spec"]["exportTo"] = nlohmann::json::array({"*"});
  stored["status"] = {{"addresses", nlohmann::json::array()}};
  auto read = ServiceEntryFromJson(stored);
  REQUIRE(read);
  CHECK(*read == testing::InlineFields(entry));

  CHECK_FALSE(ServiceEntryFromJson(nlohmann::json::object()));
  CHECK_FALSE(ServiceEntryFromJson({{"metadata", {{"name", "autogen.a.b"}}}}));
}

TEST_CASE("CarryOver takes only the named clusters' endpoints", "[carried]") {
  const ServiceEntry entry = GuideEntry();
  const auto carried = CarryOver({entry}, {"cluster2", "cluster3"});
  REQUIRE(carried.size() == 1);
  const auto& services = carried.at("cluster2");
  REQUIRE(services.size() == 1);
  const CarriedService& service = services.at("httpbin/in-ambient");
  REQUIRE(service.endpoints.size() == 1);
  CHECK(service.endpoints[0] == GatewayEndpoint("cluster2", 2));
  CHECK(service.ports == entry.ports);
  CHECK(service.traffic_distribution == RequestedTrafficDistribution(entry));
}

TEST_CASE("Merging carried endpoints back gives the entry they came from", "[carried]") {
  const ServiceEntry entry = GuideEntry();
  const auto carried = CarryOver({entry}, {"cluster2"});
  const CarriedService& service = carried.at("cluster2").at("httpbin/in-ambient");

  // What cluster1 alone plans, plus cluster2's carried part.
  ServiceEntry local_only = entry;
  std::erase_if(local_only.endpoints, [](const auto& e) { return e.cluster == "cluster2"; });
  PlanOptions options;
  options.target_cluster = "cluster1";
  const std::vector<CarriedPart> parts = {{"cluster2", &service}};
  Diagnostics diagnostics;
  auto merged = MergeCarried(local_only, "httpbin", "in-ambient", parts, options, diagnostics);
  REQUIRE(merged);
  CHECK(*merged == entry);
  CHECK(ContentHash(*merged) == ContentHash(entry));
  CHECK(diagnostics.empty());
}

TEST_CASE("A service only an unsynced cluster exports keeps its entry", "[carried]") {
  const ServiceEntry entry = GuideEntry();
  CarriedService service;
  service.ports = entry.ports;
  service.traffic_distribution = "PreferClose";
  service.endpoints = {GatewayEndpoint("cluster2", 3)};
  PlanOptions options;
  options.target_cluster = "cluster1";
  const std::vector<CarriedPart> parts = {{"cluster2", &service}};
  Diagnostics diagnostics;
  auto merged = MergeCarried(std::nullopt, "httpbin", "in-ambient", parts, options, diagnostics);
  REQUIRE(merged);
  CHECK(merged->name == "autogen.httpbin.in-ambient");
  CHECK(merged->namespace_name == "istio-system");
  CHECK(merged->host == "in-ambient.httpbin.mesh.internal");
  CHECK(merged->traffic_distribution == "PreferClose");
  CHECK(merged->ports == entry.ports);
  CHECK(merged->endpoints == std::vector<ServiceEntryEndpoint>{GatewayEndpoint("cluster2", 3)});

  // The value the Service asked for is carried, not the one written for it,
  // so the entry keeps both annotations while the cluster is away.
  ServiceEntry asked_network = entry;
  SetTrafficDistribution(asked_network, "PreferNetwork");
  const auto carried_network = CarryOver({asked_network}, {"cluster2"});
  const CarriedService& network_part = carried_network.at("cluster2").at("httpbin/in-ambient");
  CHECK(network_part.traffic_distribution == "PreferNetwork");
  const std::vector<CarriedPart> network_parts = {{"cluster2", &network_part}};
  auto merged_network =
      MergeCarried(std::nullopt, "httpbin", "in-ambient", network_parts, options, diagnostics);
  REQUIRE(merged_network);
  CHECK(merged_network->traffic_distribution == "PreferClose");
  CHECK(merged_network->requested_traffic_distribution == "PreferNetwork");

  // Nothing carried for the key: the plan stands as it is.
  CHECK_FALSE(MergeCarried(std::nullopt, "httpbin", "in-ambient", {}, options, diagnostics));
}

TEST_CASE("Carried ports join the planned ones and endpoints keep only ports the entry has",
          "[carried]") {
  ServiceEntry planned;
  planned.name = "autogen.ns.svc";
  planned.ports = {{"http", 80, "HTTP", 0}};
  CarriedService service;
  service.ports = {{"http", 80, "HTTP", 0}, {"grpc", 9090, "GRPC", 0}, {"http", 8080, "HTTP", 0}};
  ServiceEntryEndpoint endpoint;
  endpoint.address = "10.2.0.9";
  endpoint.cluster = "cluster2";
  endpoint.ports = {{"grpc", 9091}, {"gone", 1}, {"http", 8081}};
  service.endpoints = {endpoint};
  PlanOptions options;
  const std::vector<CarriedPart> parts = {{"cluster2", &service}};
  Diagnostics diagnostics;
  auto merged = MergeCarried(planned, "ns", "svc", parts, options, diagnostics);
  REQUIRE(merged);
  // 8080 reuses the name http: left out, as the planner does.
  CHECK(merged->ports ==
        std::vector<ServiceEntryPort>{{"http", 80, "HTTP", 0}, {"grpc", 9090, "GRPC", 0}});
  REQUIRE(merged->endpoints.size() == 1);
  CHECK(merged->endpoints[0].ports ==
        std::vector<std::pair<std::string, std::int32_t>>{{"grpc", 9091}, {"http", 8081}});
}

TEST_CASE("Carried endpoints over the cap are left out and reported", "[carried]") {
  ServiceEntry planned;
  planned.name = "autogen.ns.svc";
  planned.ports = {{"http", 80, "HTTP", 0}};
  ServiceEntryEndpoint local;
  local.address = "10.1.0.1";
  local.cluster = "cluster1";
  planned.endpoints = {local};
  CarriedService service;
  service.ports = planned.ports;
  for (int i = 0; i < 3; ++i) {
    ServiceEntryEndpoint endpoint;
    endpoint.address = "10.2.0." + std::to_string(i);
    endpoint.cluster = "cluster2";
    service.endpoints.push_back(endpoint);
  }
  PlanOptions options;
  options.max_endpoints = 3;
  const std::vector<CarriedPart> parts = {{"cluster2", &service}};
  Diagnostics diagnostics;
  auto merged = MergeCarried(planned, "ns", "svc", parts, options, diagnostics);
  REQUIRE(merged);
  CHECK(merged->endpoints.size() == 3);
  CHECK(testing::HasDiagnostic(diagnostics, DiagnosticCode::kEndpointCapExceeded));
}

}  // namespace
}  // namespace globalsvc::mesh
