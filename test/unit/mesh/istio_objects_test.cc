#include "lib/mesh/istio_objects.h"

#include <catch2/catch.hpp>
#include <regex>
#include <set>

#include "lib/mesh/carried_endpoints.h"
#include "lib/mesh/object_read_back.h"
#include "lib/mesh/peer_gateways.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using namespace testing;
using nlohmann::json;

// The guide's service with its pods known: two in each cluster, service
// account in-ambient here and in-ambient-west in cluster2.
struct GuideWithPods : GuideWorld {
  GuideWithPods() {
    for (ClusterState* cluster : {&cluster1, &cluster2}) {
      cluster->UpsertNamespace(
          {"httpbin", std::nullopt, "", std::nullopt, std::nullopt, std::nullopt});
      cluster->UpsertService(GlobalService("httpbin", "in-ambient"));
    }
    Endpoint a = ReadyEndpoint("10.244.0.5", "node-1");
    a.pod_name = "in-ambient-a";
    Endpoint b = ReadyEndpoint("10.244.1.8", "node-2");
    b.pod_name = "in-ambient-b";
    cluster1.UpsertEndpointSlice(Slice("httpbin", "in-ambient", "s1", {a, b}));
    cluster1.UpsertPod({"httpbin", "in-ambient-a", "in-ambient"});
    cluster1.UpsertPod({"httpbin", "in-ambient-b", "in-ambient"});
    Endpoint c = ReadyEndpoint("10.245.0.7", "node-1");
    c.pod_name = "in-ambient-c";
    Endpoint d = ReadyEndpoint("10.245.1.4", "node-2");
    d.pod_name = "in-ambient-d";
    cluster2.UpsertEndpointSlice(Slice("httpbin", "in-ambient", "s2", {c, d}));
    cluster2.UpsertPod({"httpbin", "in-ambient-c", "in-ambient-west"});
    cluster2.UpsertPod({"httpbin", "in-ambient-d", "in-ambient-west"});
    cluster2.UpsertGatewayAddress({"istio-eastwestgateway", "203.0.113.20"});
  }

  ServiceEntry Planned(const std::string& target = "cluster1") {
    Diagnostics diagnostics;
    auto entry = PlanFor(clusters(), target, "httpbin", "in-ambient", diagnostics);
    REQUIRE(entry);
    return *entry;
  }
};

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
