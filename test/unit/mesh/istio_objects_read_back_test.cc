// The rendered objects as stored: the owned-field hash that compares them with
// the plan, and an earlier run's objects read back as endpoints.

#include <catch2/catch.hpp>

#include "lib/mesh/carried_endpoints.h"
#include "lib/mesh/istio_objects.h"
#include "lib/mesh/object_read_back.h"
#include "lib/mesh/peer_gateways.h"
#include "test/unit/mesh/istio_objects_test_support.h"

namespace globalsvc::mesh {
namespace {

using nlohmann::json;

TEST_CASE("The owned-field hash ignores what others add and sees what we own", "[mesh][objects]") {
  GuideWithPods world;
  const ServiceObjects objects = RenderServiceObjects(world.Planned(), ShapeOptions{});
  std::vector<json> desired = objects.workload_entries;
  desired.push_back(objects.service_entry);
  desired.push_back(
      ToJson(PeerGateway{"globalsvc-remote-n2", "istio-system", "n2", "192.0.2.2", "cluster2"}));
  for (const json& object : desired) {
    INFO(object.dump());
    json stored = object;
    stored["metadata"]["uid"] = "u-1";
    stored["metadata"]["resourceVersion"] = "7";
    stored["metadata"]["labels"]["team"] = "a";
    stored["metadata"]["annotations"]["note"] = "b";
    stored["metadata"]["managedFields"] = json::array({{{"manager", "istiod"}}});
    stored["status"] = {{"addresses", json::array({{{"value", "240.240.0.1"}}})}};
    stored["spec"]["exportTo"] = json::array({"*"});  // not a field we write
    CHECK(OwnedContentHash(stored) == OwnedContentHash(object));
    // An edit of a field we own, or the loss of our label, shows.
    json edited = stored;
    edited["metadata"]["labels"][kManagedByLabel] = "someone";
    CHECK(OwnedContentHash(edited) != OwnedContentHash(object));
  }
  json moved = objects.workload_entries.front();
  moved["spec"]["locality"] = "elsewhere";
  CHECK(OwnedContentHash(moved) != OwnedContentHash(objects.workload_entries.front()));
  json no_sans = objects.service_entry;
  no_sans["spec"].erase("subjectAltNames");
  CHECK(OwnedContentHash(no_sans) != OwnedContentHash(objects.service_entry));
  CHECK_NOTHROW(OwnedContentHash(json::array()));
  CHECK_NOTHROW(OwnedContentHash(json{{"metadata", 3}, {"spec", "x"}, {"kind", 1}}));
}

TEST_CASE("What an earlier run wrote in this shape reads back as the planned endpoints",
          "[mesh][objects]") {
  GuideWithPods world;
  const ServiceEntry entry = world.Planned();
  const ServiceObjects objects = RenderServiceObjects(entry, ShapeOptions{});
  // As the API server returns them, a stranger WorkloadEntry among them.
  std::vector<json> workloads = objects.workload_entries;
  workloads.push_back(
      {{"metadata", {{"name", "vm-1"}, {"labels", {{"app", "vm"}}}}}, {"spec", json::object()}});
  const auto read = EntriesFromObjects({objects.service_entry}, workloads);
  REQUIRE(read.size() == 1);
  CHECK(read[0].service_namespace == "httpbin");
  CHECK(read[0].service_name == "in-ambient");
  CHECK(read[0].ports == entry.ports);
  CHECK(read[0].endpoints == entry.endpoints);  // service accounts included
  // Carried over for an unsynced cluster, they are its endpoints.
  const auto carried = CarryOver(read, {"cluster2"});
  REQUIRE(carried.count("cluster2") == 1);
  const auto& part = carried.at("cluster2").at("httpbin/in-ambient");
  REQUIRE(part.endpoints.size() == 1);
  CHECK(part.endpoints[0].weight == 2);
  // WorkloadEntries without their ServiceEntry carry nothing.
  CHECK(EntriesFromObjects({}, workloads).empty());

  // Read from a file, a weight is a signed number: still the same weight.
  // One out of range counts as unset.
  auto weight_of_gateway_entry = [&](const json& weight) {
    std::vector<json> edited = objects.workload_entries;
    for (auto& we : edited) {
      if (we["spec"].contains("weight")) we["spec"]["weight"] = weight;
    }
    const auto entries = EntriesFromObjects({objects.service_entry}, edited);
    REQUIRE(entries.size() == 1);
    std::uint32_t found = 0;
    for (const auto& endpoint : entries[0].endpoints)
      if (endpoint.address.empty()) found = endpoint.weight;
    return found;
  };
  CHECK(weight_of_gateway_entry(json(std::int64_t{2})) == 2);
  CHECK(weight_of_gateway_entry(json(std::int64_t{-2})) == 0);
  CHECK(weight_of_gateway_entry(json(std::int64_t{1} << 40)) == 0);
  CHECK(weight_of_gateway_entry(json("2")) == 0);
}

}  // namespace
}  // namespace globalsvc::mesh
