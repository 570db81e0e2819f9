// The ServiceEntry and WorkloadEntries a planned service renders to: identities,
// waypoints, selector labels, names and the namespace they live in.

#include "lib/mesh/istio_objects.h"

#include <catch2/catch.hpp>
#include <regex>
#include <set>

#include "test/unit/mesh/istio_objects_test_support.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using namespace testing;
using nlohmann::json;

const json* FindByAddress(const std::vector<json>& entries, const std::string& address) {
  for (const auto& e : entries) {
    if (e["spec"].value("address", "") == address) return &e;
  }
  return nullptr;
}

bool IsLabelValue(const std::string& value) {
  static const std::regex pattern("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  return value.size() <= 63 && std::regex_match(value, pattern);
}

TEST_CASE("The planner records each pod's service account and the service's identities",
          "[mesh][objects]") {
  GuideWithPods world;
  const ServiceEntry entry = world.Planned();
  // Every exporting cluster's identities, the ones behind the gateway too.
  CHECK(entry.service_accounts == std::vector<std::string>{"in-ambient", "in-ambient-west"});
  CHECK(entry.namespace_exists_locally);
  for (const auto& endpoint : entry.endpoints) {
    if (endpoint.cluster == "cluster1") {
      CHECK(endpoint.service_account == "in-ambient");
    } else {
      CHECK(endpoint.service_account.empty());  // a gateway endpoint
    }
  }
  // A pod the cluster does not know leaves its endpoint without an identity.
  world.cluster1.RemovePod("httpbin", "in-ambient-b");
  const ServiceEntry partial = world.Planned();
  std::set<std::string> accounts;
  for (const auto& endpoint : partial.endpoints) {
    if (endpoint.cluster == "cluster1") accounts.insert(endpoint.service_account);
  }
  CHECK(accounts == std::set<std::string>{"", "in-ambient"});
}

TEST_CASE("Each exporting cluster's waypoint joins the service's identities", "[mesh][objects]") {
  GuideWithPods world;
  // cluster1's namespace sends through httpbin-waypoint; cluster2's Service
  // names its own waypoint in another namespace.
  Namespace labelled{"httpbin", std::nullopt, "", std::nullopt, std::nullopt, std::nullopt};
  labelled.waypoint_label = "httpbin-waypoint";
  world.cluster1.UpsertNamespace(labelled);
  Service west = GlobalService("httpbin", "in-ambient");
  west.waypoint_label = "shared";
  west.waypoint_namespace_label = "waypoints";
  world.cluster2.UpsertService(west);

  const ServiceEntry entry = world.Planned();
  CHECK(entry.waypoint_accounts ==
        std::vector<std::string>{"httpbin/httpbin-waypoint", "waypoints/shared"});
  const json se = RenderServiceObjects(entry, ShapeOptions{}).service_entry;
  CHECK(se["spec"]["subjectAltNames"] ==
        json::array({"spiffe://cluster.local/ns/httpbin/sa/httpbin-waypoint",
                     "spiffe://cluster.local/ns/httpbin/sa/in-ambient",
                     "spiffe://cluster.local/ns/httpbin/sa/in-ambient-west",
                     "spiffe://cluster.local/ns/waypoints/sa/shared"}));

  // Only the Namespace's label reaches the ServiceEntry by itself (istiod
  // reads it there); the local Service's own label is carried over.
  CHECK_FALSE(se["metadata"]["labels"].contains(kUseWaypointLabel));
  const json from_cluster2 =
      RenderServiceObjects(world.Planned("cluster2"), ShapeOptions{}).service_entry;
  CHECK(from_cluster2["metadata"]["labels"][kUseWaypointLabel] == "shared");
  CHECK(from_cluster2["metadata"]["labels"][kUseWaypointNamespaceLabel] == "waypoints");

  // The Service's own label wins over its Namespace's, and "none" means none.
  Service opted_out = GlobalService("httpbin", "in-ambient");
  opted_out.waypoint_label = "none";
  world.cluster1.UpsertService(opted_out);
  world.cluster2.UpsertService(GlobalService("httpbin", "in-ambient"));
  const ServiceEntry without = world.Planned();
  CHECK(without.waypoint_accounts.empty());
  const json opted = RenderServiceObjects(without, ShapeOptions{}).service_entry;
  CHECK(opted["metadata"]["labels"][kUseWaypointLabel] == "none");
  // The label is ours to write: a change of it is a change of the object.
  json relabelled = opted;
  relabelled["metadata"]["labels"][kUseWaypointLabel] = "other";
  CHECK(OwnedContentHash(relabelled) != OwnedContentHash(opted));
}

TEST_CASE("A global service renders as a ServiceEntry selecting its WorkloadEntries by our label",
          "[mesh][objects]") {
  GuideWithPods world;
  const ServiceEntry entry = world.Planned();
  const ServiceObjects objects = RenderServiceObjects(entry, ShapeOptions{});

  const json& se = objects.service_entry;
  CHECK(se["metadata"]["name"] == "autogen.httpbin.in-ambient");
  CHECK(se["metadata"]["namespace"] == "httpbin");  // the pods' namespace: their identity
  CHECK(se["metadata"]["labels"][kManagedByLabel] == "globalsvc");
  CHECK(se["spec"]["hosts"] == json::array({"in-ambient.httpbin.mesh.internal"}));
  CHECK(se["spec"]["resolution"] == "STATIC");
  CHECK_FALSE(se["spec"].contains("endpoints"));
  CHECK_FALSE(se["spec"].contains("addresses"));  // istiod allocates the VIP
  CHECK(se["spec"]["workloadSelector"] ==
        json({{"labels", {{kGlobalServiceLabel, "in-ambient"}}}}));
  CHECK(se["spec"]["subjectAltNames"] ==
        json::array({"spiffe://cluster.local/ns/httpbin/sa/in-ambient",
                     "spiffe://cluster.local/ns/httpbin/sa/in-ambient-west"}));
  CHECK(se["metadata"]["annotations"][kTrafficDistributionAnnotation] ==
        entry.traffic_distribution);

  // One WorkloadEntry per local pod, as the pod, and one for the remote
  // cluster's endpoints behind its gateway.
  REQUIRE(objects.workload_entries.size() == 3);
  for (const auto& we : objects.workload_entries) {
    CHECK(we["metadata"]["namespace"] == "httpbin");
    CHECK(we["metadata"]["labels"][kGlobalServiceLabel] == "in-ambient");
    CHECK(we["metadata"]["labels"][kManagedByLabel] == "globalsvc");
    CHECK_FALSE(we["metadata"]["labels"].contains("app"));  // never the Service's selector
  }
  const json* pod = FindByAddress(objects.workload_entries, "10.244.0.5");
  REQUIRE(pod != nullptr);
  CHECK((*pod)["spec"] == json({{"address", "10.244.0.5"},
                                {"network", "cluster1-network"},
                                {"locality", "us-east-1/us-east-1a"},
                                {"serviceAccount", "in-ambient"},
                                {"ports", {{"http", 8080}}}}));
  CHECK((*pod)["metadata"]["labels"][kClusterLabel] == "cluster1");
  const json* remote = FindByAddress(objects.workload_entries, "");
  REQUIRE(remote != nullptr);
  CHECK(
      (*remote)["spec"] ==
      json({{"network", "cluster2-network"}, {"locality", "us-west-2/us-west-2a"}, {"weight", 2}}));
  CHECK((*remote)["metadata"]["labels"][kClusterLabel] == "cluster2");

  // Sorted by name, names unique and valid object names.
  std::vector<std::string> names;
  for (const auto& we : objects.workload_entries)
    names.push_back(we["metadata"]["name"].get<std::string>());
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(std::set<std::string>(names.begin(), names.end()).size() == names.size());
  for (const auto& name : names) {
    CHECK(name.starts_with("autogen.httpbin.in-ambient."));
    CHECK(std::regex_match(name, std::regex("[a-z0-9]([-a-z0-9.]*[a-z0-9])?")));
  }
}

TEST_CASE("WorkloadEntry names follow the endpoint, not its position", "[mesh][objects]") {
  GuideWithPods world;
  const ServiceObjects before = RenderServiceObjects(world.Planned(), ShapeOptions{});
  const json* kept_before = FindByAddress(before.workload_entries, "10.244.1.8");
  REQUIRE(kept_before != nullptr);

  // A pod leaves: the others keep their names (one delete, no renames).
  Endpoint b = ReadyEndpoint("10.244.1.8", "node-2");
  b.pod_name = "in-ambient-b";
  world.cluster1.UpsertEndpointSlice(Slice("httpbin", "in-ambient", "s1", {b}));
  const ServiceObjects after = RenderServiceObjects(world.Planned(), ShapeOptions{});
  REQUIRE(after.workload_entries.size() == 2);
  const json* kept_after = FindByAddress(after.workload_entries, "10.244.1.8");
  REQUIRE(kept_after != nullptr);
  CHECK((*kept_after)["metadata"]["name"] == (*kept_before)["metadata"]["name"]);
  // The same address in another cluster is another endpoint, another name.
  ServiceEntry entry = world.Planned();
  ServiceEntryEndpoint other = entry.endpoints.front();
  other.cluster = "cluster9";
  CHECK(WorkloadEntryName(entry, other) != WorkloadEntryName(entry, entry.endpoints.front()));
}

TEST_CASE("A service only remote clusters have lives in the control-plane namespace",
          "[mesh][objects]") {
  GuideWithPods world;
  world.cluster1.RemoveService("httpbin", "in-ambient");
  world.cluster1.RemoveEndpointSlice("httpbin", "in-ambient", "s1");
  world.cluster1.RemoveNamespace("httpbin");
  const ServiceEntry entry = world.Planned();
  CHECK_FALSE(entry.namespace_exists_locally);
  ShapeOptions options;
  options.control_plane_namespace = "mesh-system";
  options.trust_domain = "example.org";
  const ServiceObjects objects = RenderServiceObjects(entry, options);
  CHECK(objects.service_entry["metadata"]["namespace"] == "mesh-system");
  // Services of every namespace share it: the selector names both.
  CHECK(objects.service_entry["spec"]["workloadSelector"]["labels"][kGlobalServiceLabel] ==
        "httpbin.in-ambient");
  CHECK(objects.service_entry["spec"]["subjectAltNames"] ==
        json::array({"spiffe://example.org/ns/httpbin/sa/in-ambient-west"}));
  REQUIRE(objects.workload_entries.size() == 1);
  CHECK(objects.workload_entries[0]["metadata"]["namespace"] == "mesh-system");
  CHECK(objects.workload_entries[0]["metadata"]["labels"][kGlobalServiceLabel] ==
        "httpbin.in-ambient");
}

TEST_CASE("A selector value past 63 characters is shortened, valid and distinct",
          "[mesh][objects]") {
  ServiceEntry a;
  a.service_namespace = std::string(60, 'n');
  a.service_name = std::string(60, 's');
  a.namespace_exists_locally = false;
  ServiceEntry b = a;
  b.service_name = std::string(59, 's') + "t";
  const ShapeOptions options;
  const std::string value_a = GlobalServiceLabelValue(a, options);
  const std::string value_b = GlobalServiceLabelValue(b, options);
  CHECK(IsLabelValue(value_a));
  CHECK(IsLabelValue(value_b));
  CHECK(value_a != value_b);
  // A cut that would end on '-' or '.' is trimmed.
  ServiceEntry dotted = a;
  dotted.service_namespace = std::string(51, 'n');
  CHECK(IsLabelValue(GlobalServiceLabelValue(dotted, options)));
  // In its own namespace the Service's name is enough.
  a.namespace_exists_locally = true;
  CHECK(GlobalServiceLabelValue(a, options) == a.service_name);
}

TEST_CASE("A service with no known pod identity gets no subjectAltNames", "[mesh][objects]") {
  GuideWorld world;  // no Pods known
  world.cluster1.UpsertService(GlobalService("httpbin", "in-ambient"));
  world.cluster1.UpsertEndpointSlice(
      Slice("httpbin", "in-ambient", "s1", {ReadyEndpoint("10.244.0.5", "node-1")}));
  Diagnostics diagnostics;
  auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
  REQUIRE(entry);
  const ServiceObjects objects = RenderServiceObjects(*entry, ShapeOptions{});
  CHECK_FALSE(objects.service_entry["spec"].contains("subjectAltNames"));
  REQUIRE(objects.workload_entries.size() == 1);
  CHECK_FALSE(objects.workload_entries[0]["spec"].contains("serviceAccount"));
}

}  // namespace
}  // namespace globalsvc::mesh
