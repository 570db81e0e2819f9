// Bad objects the controller must survive and report, on the real test bed:
// a port-less global Service, one port number defined differently in two
// clusters, and a Service with more endpoints than a ServiceEntry may hold
// (4096). Each ends with the exact ServiceEntry (or its absence) in cluster1
// and the report (Event, metric).

#include <algorithm>
#include <catch2/catch.hpp>

#include "lib/kube/kube_client.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/integration/controller/fault_support.h"
#include "test/support/testbed.h"

namespace globalsvc::controller {
namespace {

using namespace testbed;
using nlohmann::json;
using testsupport::TestBed;
using testsupport::WaitFor;
using namespace std::chrono_literals;

constexpr const char* kNamespace = "globalsvc-objects";
constexpr std::size_t kCap = 4096;  // Istio's limit of endpoints per ServiceEntry

json Service(const std::string& name, const json& ports) {
  json service = {{"apiVersion", "v1"},
                  {"kind", "Service"},
                  {"metadata",
                   {{"name", name},
                    {"namespace", kNamespace},
                    {"labels", {{"solo.io/service-scope", "global"}}}}},
                  {"spec", {{"ports", ports}}}};
  if (ports.empty()) {
    service["spec"] = {{"clusterIP", "None"}};  // only a headless Service may have no port
  }
  return service;
}

// An EndpointSlice of `service` with `count` ready addresses from `first`
// (10.x.y.z counting up), all on `node`.
json Slice(const std::string& name, const std::string& service, const json& ports, int first,
           int count, const std::string& node) {
  json endpoints = json::array();
  for (int i = first; i < first + count; ++i) {
    const std::string ip = "10.252." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    endpoints.push_back(
        {{"addresses", json::array({ip})}, {"nodeName", node}, {"conditions", {{"ready", true}}}});
  }
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata",
           {{"name", name},
            {"namespace", kNamespace},
            {"labels", {{"kubernetes.io/service-name", service}}}}},
          {"addressType", "IPv4"},
          {"ports", ports},
          {"endpoints", endpoints}};
}

std::string EntryName(const std::string& service) {
  return "autogen." + std::string(kNamespace) + "." + service;
}

// Deletes Service `name` and its slice `name`-1 / `name`-2 from cluster1 and
// cluster2, and waits until its ServiceEntry is gone.
// Deletes a Service, retrying what a busy API server may answer (timeouts,
// 429, 5xx) for a minute; the last error is the check's message.
void DeleteService(kube::KubeClient& client, const std::string& name) {
  CHECK_OK(WaitFor(
      "Service " + name + " deleted from " + client.cluster_name(), 60s, [&](std::string* why) {
        const Status deleted = client.Delete(kube::resources::Services(), kNamespace, name);
        if (deleted.ok() || deleted.error().code == ErrorCode::kNotFound) {
          return true;
        }
        *why = deleted.error().message;
        return false;
      }));
}

void DeleteFromBoth(const TestBed& bed, kube::KubeClient& c1, kube::KubeClient& c2,
                    const std::string& name) {
  for (auto* client : {&c1, &c2}) {
    DeleteService(*client, name);
    (void)client->Delete(kube::resources::EndpointSlices(), kNamespace,
                         name + (client == &c1 ? "-1" : "-2"));
  }
  CHECK_OK(WaitFor(name + " ServiceEntry removed", 30s, [&](std::string*) {
    return !GetServiceEntry(bed, "cluster1", EntryName(name));
  }));
}

TEST_CASE("Port-less Services, port conflicts across clusters, more than 4096 endpoints",
          "[controller][faults][testbed]") {
  TestBed& bed = SharedBed();
  StartClean(bed);
  auto c1 = ApiClient(bed, "cluster1");
  auto c2 = ApiClient(bed, "cluster2");
  for (const char* cluster : {"cluster1", "cluster2"}) {
    (void)bed.Kubectl(cluster, {"create", "namespace", kNamespace});  // may exist already
  }
  // The 5,000-endpoint case writes 4,096 WorkloadEntries and deletes most of
  // them again: a rate limit above the default keeps it short.
  auto started =
      StartController("objects", "globalsvc-faults-objects", {"--qps=400", "--burst=800"});
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(ApplySecret(bed, "faults-remote", ReadFile(bed.Kubeconfig("cluster2"))));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));

  SECTION("a port-less global Service: no ServiceEntry, a Warning Event") {
    REQUIRE_OK(ServerSideApply(*c1, Service("portless", json::array())));
    CHECK_OK(WaitFor("NoTcpPorts Event", 30s, [&](std::string*) {
      return HasWarningEvent(bed, "cluster1", kNamespace, "Service", "portless", "NoTcpPorts");
    }));
    CHECK(controller.MetricOr0("globalsvc_diagnostics_total", {{"code", "NoTcpPorts"}}) >= 1);
    CHECK_FALSE(GetServiceEntry(bed, "cluster1", EntryName("portless")));
    // It gains a port: exported.
    REQUIRE_OK(StatusOf(c1->Delete(kube::resources::Services(), kNamespace, "portless")));
    REQUIRE_OK(
        ServerSideApply(*c1, Service("portless", json::array({{{"name", "http"}, {"port", 80}}}))));
    CHECK_OK(WaitForEndpoints(bed, "cluster1", {}, EntryName("portless")));
    REQUIRE_OK(StatusOf(c1->Delete(kube::resources::Services(), kNamespace, "portless")));
    CHECK_OK(WaitFor("portless ServiceEntry removed", 30s, [&](std::string*) {
      return !GetServiceEntry(bed, "cluster1", EntryName("portless"));
    }));
  }

  SECTION("one port number, two definitions: the local Service wins, reported") {
    // cluster1's definition wins in cluster1, whatever the creation times.
    const json local_ports = json::array({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}});
    REQUIRE_OK(ServerSideApply(*c1, Service("ports", local_ports)));
    const json remote_ports =
        json::array({{{"name", "grpc"}, {"port", 8080}, {"protocol", "TCP"}},
                     {{"name", "dns"}, {"port", 8080}, {"protocol", "UDP"}},
                     {{"name", "metrics"}, {"port", 9090}, {"protocol", "TCP"}}});
    REQUIRE_OK(ServerSideApply(*c2, Service("ports", remote_ports)));
    REQUIRE_OK(ServerSideApply(
        *c1, Slice("ports-1", "ports", json::array({{{"name", "http"}, {"port", 8080}}}), 0, 1,
                   "node-us-east-1a-0")));
    REQUIRE_OK(ServerSideApply(*c2, Slice("ports-2", "ports",
                                          json::array({{{"name", "grpc"}, {"port", 8080}},
                                                       {{"name", "metrics"}, {"port", 9090}}}),
                                          100, 2, "node-us-west-2a-0")));
    CHECK_OK(WaitForEndpoints(bed, "cluster1",
                              {"cluster1 cluster1-network us-east-1/us-east-1a 0 pod",
                               "cluster2 cluster2-network us-west-2/us-west-2a 2 gateway"},
                              EntryName("ports")));
    auto entry = GetServiceEntry(bed, "cluster1", EntryName("ports"));
    REQUIRE(entry);
    std::vector<std::string> ports;
    for (const auto& port : (*entry)["spec"]["ports"]) {
      ports.push_back(std::to_string(port.value("number", 0)) + " " + port.value("name", "") + " " +
                      port.value("protocol", ""));
    }
    CHECK(ports == std::vector<std::string>{"8080 http HTTP", "9090 metrics TCP"});
    // cluster1's endpoint serves 8080 only; cluster2's gateway carries both.
    for (const auto& e : (*entry)["spec"]["endpoints"]) {
      if (e.contains("address")) CHECK(e["ports"] == json({{"http", 8080}}));
    }
    CHECK_OK(WaitForMetric(controller, "port conflict counted", [](const ControllerProcess& c) {
      return c.MetricOr0("globalsvc_conflicts_total", {{"reason", "port"}}) >= 1 &&
             c.MetricOr0("globalsvc_diagnostics_total", {{"code", "PortConflict"}}) >= 1;
    }));
    CHECK(controller.CountInLog("PortConflict") >= 1);
    DeleteFromBoth(bed, *c1, *c2, "ports");
  }

  SECTION("exported by its Namespace's label: whole once labelled, dormant again after") {
    // Unlabelled Services of an unlabelled namespace are kept as names only;
    // labelling the namespace makes each cluster list them again.
    const json ports = json::array({{{"name", "http"}, {"port", 80}}});
    const json slice_ports = json::array({{{"name", "http"}, {"port", 8080}}});
    json plain = Service("by-namespace", ports);
    plain["metadata"].erase("labels");
    REQUIRE_OK(ServerSideApply(*c1, plain));
    REQUIRE_OK(ServerSideApply(
        *c1, Slice("by-namespace-1", "by-namespace", slice_ports, 200, 1, "node-us-east-1a-0")));
    REQUIRE_OK(ServerSideApply(*c2, plain));
    REQUIRE_OK(ServerSideApply(
        *c2, Slice("by-namespace-2", "by-namespace", slice_ports, 300, 2, "node-us-west-2a-0")));
    const auto label_namespace = [&](const std::string& change) {
      for (const char* cluster : {"cluster1", "cluster2"}) {
        REQUIRE(bed.Kubectl(cluster, {"label", "--overwrite", "namespace", kNamespace,
                                      "solo.io/service-scope" + change})
                    .ok());
      }
    };
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
    CHECK_FALSE(GetServiceEntry(bed, "cluster1", EntryName("by-namespace")));
    label_namespace("=global");
    CHECK_OK(WaitForEndpoints(bed, "cluster1",
                              {"cluster1 cluster1-network us-east-1/us-east-1a 0 pod",
                               "cluster2 cluster2-network us-west-2/us-west-2a 2 gateway"},
                              EntryName("by-namespace"), 60s));
    label_namespace("-");
    CHECK_OK(WaitFor("by-namespace ServiceEntry removed", 30s, [&](std::string*) {
      return !GetServiceEntry(bed, "cluster1", EntryName("by-namespace"));
    }));
    // And once more: the records kept dormant again are read again.
    label_namespace("=global");
    CHECK_OK(WaitForEndpoints(bed, "cluster1",
                              {"cluster1 cluster1-network us-east-1/us-east-1a 0 pod",
                               "cluster2 cluster2-network us-west-2/us-west-2a 2 gateway"},
                              EntryName("by-namespace"), 60s));
    label_namespace("-");
    DeleteFromBoth(bed, *c1, *c2, "by-namespace");
    CHECK(controller.Running());
  }

  SECTION("5,000 endpoints: capped at 4096 across localities, reported, the rest intact") {
    const json ports = json::array({{{"name", "http"}, {"port", 80}}});
    const json slice_ports = json::array({{{"name", "http"}, {"port", 8080}}});
    REQUIRE_OK(ServerSideApply(*c1, Service("many", ports)));
    // Five slices of 1000 (the API's limit per slice), both zones of cluster1.
    for (int s = 0; s < 5; ++s) {
      REQUIRE_OK(ServerSideApply(
          *c1, Slice("many-" + std::to_string(s), "many", slice_ports, s * 1000, 1000,
                     s % 2 == 0 ? "node-us-east-1a-0" : "node-us-east-1b-0")));
    }
    REQUIRE_OK(ServerSideApply(*c2, Service("many", ports)));
    REQUIRE_OK(ServerSideApply(
        *c2, Slice("many-remote", "many", slice_ports, 6000, 3, "node-us-west-2a-0")));
    std::optional<json> entry;
    // cluster1 alone fills the cap: wait for cluster2's gateway as well.
    CHECK_OK(WaitFor("4096 endpoints, one of them cluster2's gateway", 300s, [&](std::string* why) {
      entry = GetServiceEntry(bed, "cluster1", EntryName("many"));
      const auto endpoints = entry ? (*entry)["spec"].value("endpoints", json::array()) : json();
      const bool gateway = std::any_of(endpoints.begin(), endpoints.end(),
                                       [](const json& e) { return !e.contains("address"); });
      *why = std::to_string(endpoints.size()) + " endpoints, gateway " + (gateway ? "in" : "out");
      return endpoints.size() == kCap && gateway;
    }));
    REQUIRE(entry);
    std::map<std::string, int> by_group;
    std::set<std::string> addresses;
    for (const auto& e : (*entry)["spec"]["endpoints"]) {
      const std::string cluster =
          e.value("labels", json::object()).value("topology.istio.io/cluster", "");
      by_group[cluster + " " + e.value("locality", "") +
               (e.contains("address") ? "" : " gateway")]++;
      if (e.contains("address")) addresses.insert(e.value("address", ""));
      if (!e.contains("address")) CHECK(e.value("weight", 0) == 3);
    }
    INFO("groups: " << json(by_group).dump());
    // No duplicate; every locality keeps capacity, cluster2 keeps its gateway.
    CHECK(addresses.size() == kCap - 1);
    CHECK(by_group["cluster2 us-west-2/us-west-2a gateway"] == 1);
    CHECK(by_group["cluster1 us-east-1/us-east-1a"] >= 2000);
    CHECK(by_group["cluster1 us-east-1/us-east-1b"] >= 2000);
    CHECK_OK(WaitForMetric(controller, "cap reported", [](const ControllerProcess& c) {
      return c.MetricOr0("globalsvc_diagnostics_total", {{"code", "EndpointCapExceeded"}}) >= 1;
    }));
    CHECK_OK(WaitFor("EndpointCapExceeded Event", 30s, [&](std::string*) {
      return HasWarningEvent(bed, "cluster1", kNamespace, "Service", "many", "EndpointCapExceeded");
    }));
    // The rest is intact: the guide's service is untouched.
    CHECK_OK(WaitForEndpoints(bed, "cluster1", FullView(2)));
    // Below the cap again: every endpoint, exactly.
    for (int s = 1; s < 5; ++s) {
      REQUIRE_OK(StatusOf(
          c1->Delete(kube::resources::EndpointSlices(), kNamespace, "many-" + std::to_string(s))));
    }
    CHECK_OK(WaitFor("1001 endpoints", 300s, [&](std::string* why) {
      entry = GetServiceEntry(bed, "cluster1", EntryName("many"));
      const auto count = entry ? (*entry)["spec"].value("endpoints", json::array()).size() : 0;
      *why = std::to_string(count) + " endpoints";
      return count == 1001;  // 1000 addresses and cluster2's gateway
    }));
    for (auto* client : {c1.get(), c2.get()})
      DeleteService(*client, "many");
    CHECK_OK(WaitFor("many ServiceEntry removed", 300s, [&](std::string*) {
      return !GetServiceEntry(bed, "cluster1", EntryName("many"));
    }));
  }

  for (const char* cluster : {"cluster1", "cluster2"}) {
    CHECK(bed.Kubectl(cluster, {"delete", "services,endpointslices", "--all", "-n", kNamespace})
              .ok());
  }
  REQUIRE(controller.Running());
  REQUIRE_OK(DeleteSecret(bed, "faults-remote"));
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", LocalView()));
  CHECK(controller.Terminate());
}

}  // namespace
}  // namespace globalsvc::controller
