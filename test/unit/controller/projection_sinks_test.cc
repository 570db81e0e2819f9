// The reflector sinks that turn watch events into MeshStore records: what they
// store, which ServiceEntry keys they hand on, and what they ignore.

#include "controller/projection_sinks.h"

#include <catch2/catch.hpp>

#include "test/unit/controller/sink_test_support.h"

namespace globalsvc::controller {
namespace {

using kube::WatchEventType;

TEST_CASE("Service sink stores records and hands on changed keys only", "[controller][sinks]") {
  Fixture f;
  auto sink = MakeServiceSink(f.Context());
  sink->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("a", "global")));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  // A status-only update decodes to the same record: nothing to do.
  auto with_status = Yaml(ServiceYaml("a", "global"));
  with_status["status"] = {{"loadBalancer", nlohmann::json::object()}};
  with_status["metadata"]["resourceVersion"] = "42";
  sink->ApplyEvent(WatchEventType::kModified, std::move(with_status));
  CHECK(f.TakeKeys().empty());
  sink->ApplyEvent(WatchEventType::kModified, Yaml(ServiceYaml("a", "cluster")));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  sink->ApplyEvent(WatchEventType::kDeleted, Yaml(ServiceYaml("a", "cluster")));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  CHECK(f.store.ServiceKeys("c1").empty());
}

TEST_CASE("A relist removes what disappeared and reports nothing that still exists",
          "[controller][sinks]") {
  Fixture f;
  auto sink = MakeServiceSink(f.Context());
  CHECK_FALSE(sink->synced());
  sink->BeginReplace();
  sink->ReplaceItem(Yaml(ServiceYaml("a", "global")));
  sink->ReplaceItem(Yaml(ServiceYaml("b", "global")));
  sink->EndReplace();
  CHECK(sink->synced());
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a", "ns/b"});
  // Second list (after 410 Gone): a unchanged, b gone, c new.
  sink->BeginReplace();
  sink->ReplaceItem(Yaml(ServiceYaml("a", "global")));
  sink->ReplaceItem(Yaml(ServiceYaml("c", "global")));
  sink->EndReplace();
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/c", "ns/b"});
  CHECK(f.store.ServiceKeys("c1") == std::vector<std::string>{"ns/a", "ns/c"});
}

TEST_CASE("Objects that no longer decode are removed, with a diagnostic", "[controller][sinks]") {
  Fixture f;
  auto sink = MakeServiceSink(f.Context());
  sink->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("a", "global")));
  f.TakeKeys();
  sink->ApplyEvent(WatchEventType::kModified, Yaml("kind: Service\nmetadata: {namespace: ns}\n"));
  CHECK(f.problems.size() == 1);
}

TEST_CASE("EndpointSlice sink follows slices between services", "[controller][sinks]") {
  Fixture f;
  auto sink = MakeEndpointSliceSink(f.Context());
  const auto slice = [](const std::string& service, const std::string& address) {
    return Yaml(
        "kind: EndpointSlice\naddressType: IPv4\nmetadata: {name: s1, namespace: ns, "
        "labels: {kubernetes.io/service-name: " +
        service + "}}\nendpoints: [{addresses: [" + address + "]}]\n");
  };
  sink->ApplyEvent(WatchEventType::kAdded, slice("a", "10.0.0.1"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  sink->ApplyEvent(WatchEventType::kModified, slice("a", "10.0.0.1"));
  CHECK(f.TakeKeys().empty());
  sink->ApplyEvent(WatchEventType::kModified, slice("b", "10.0.0.1"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a", "ns/b"});
  f.store.Read("c1", [](const mesh::ClusterState& state) {
    CHECK(state.FindSlices("ns/a") == nullptr);
    CHECK(state.FindSlices("ns/b") != nullptr);
  });
  sink->ApplyEvent(WatchEventType::kDeleted, slice("b", "10.0.0.1"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/b"});
  CHECK(f.store.Read(
      "c1", [](const mesh::ClusterState& state) { CHECK(state.endpoint_slice_count() == 0); }));
}

TEST_CASE("A reconnection keeps state and relists only differences", "[controller][sinks]") {
  Fixture f;
  const auto slice = Yaml(
      "kind: EndpointSlice\naddressType: IPv4\nmetadata: {name: s1, namespace: ns, labels: "
      "{kubernetes.io/service-name: a}}\nendpoints: [{addresses: [10.0.0.1]}]\n");
  {
    auto first = MakeEndpointSliceSink(f.Context());
    first->ApplyEvent(WatchEventType::kAdded, nlohmann::json(slice));
  }
  f.TakeKeys();
  auto second = MakeEndpointSliceSink(f.Context());  // new connection, same store
  second->BeginReplace();
  second->EndReplace();  // the slice is gone in the new list
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  CHECK(f.store.Read(
      "c1", [](const mesh::ClusterState& state) { CHECK(state.endpoint_slice_count() == 0); }));
}

TEST_CASE("Node heartbeats change nothing - topology changes touch the cluster's services",
          "[controller][sinks]") {
  Fixture f;
  auto services = MakeServiceSink(f.Context());
  services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("a", "global")));
  f.TakeKeys();
  auto nodes = MakeNodeSink(f.Context());
  const auto node = [](const std::string& zone, const std::string& heartbeat) {
    return Yaml(
        "kind: Node\nmetadata: {name: n1, labels: {topology.kubernetes.io/region: r, "
        "topology.kubernetes.io/zone: " +
        zone + "}}\nstatus: {conditions: [{type: Ready, lastHeartbeatTime: '" + heartbeat +
        "'}]}\n");
  };
  nodes->ApplyEvent(WatchEventType::kAdded, node("z1", "t1"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  nodes->ApplyEvent(WatchEventType::kModified, node("z1", "t2"));
  CHECK(f.TakeKeys().empty());
  nodes->ApplyEvent(WatchEventType::kModified, node("z2", "t3"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
}

TEST_CASE("Namespace labels: scope touches its services, the network touches everything",
          "[controller][sinks]") {
  Fixture f;
  auto services = MakeServiceSink(f.Context());
  services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("a", "global")));
  f.store.Update("c2", [](mesh::ClusterState& state) {
    mesh::Service remote;
    remote.namespace_name = "other";
    remote.name = "r";
    state.UpsertService(remote);
  });
  f.TakeKeys();
  auto namespaces = MakeNamespaceSink(f.Context());
  namespaces->ApplyEvent(
      WatchEventType::kAdded,
      Yaml("kind: Namespace\nmetadata: {name: ns, labels: {solo.io/service-scope: global}}\n"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  namespaces->ApplyEvent(WatchEventType::kAdded,
                         Yaml("kind: Namespace\nmetadata: {name: istio-system, labels: "
                              "{topology.istio.io/network: n1}}\n"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a", "other/r"});
  std::string network;
  f.store.Read("c1", [&](const mesh::ClusterState& state) { network = state.network(); });
  CHECK(network == "n1");

  // The namespace's traffic-distribution annotation decides for its services
  // that set none: a change touches them; the same object again does not.
  const auto annotated = Yaml(
      "kind: Namespace\nmetadata: {name: ns, labels: {solo.io/service-scope: global}, "
      "annotations: {networking.istio.io/traffic-distribution: PreferSameNode}}\n");
  namespaces->ApplyEvent(WatchEventType::kModified, nlohmann::json(annotated));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  namespaces->ApplyEvent(WatchEventType::kModified, nlohmann::json(annotated));
  CHECK(f.TakeKeys().empty());
}

TEST_CASE("A network given explicitly is not overridden by the namespace label",
          "[controller][sinks]") {
  Fixture f;
  f.store.Update("c1", [](mesh::ClusterState& state) { state.set_network("flag-net"); });
  auto namespaces = MakeNamespaceSink(f.Context("flag-net"));
  namespaces->ApplyEvent(WatchEventType::kAdded,
                         Yaml("kind: Namespace\nmetadata: {name: istio-system, labels: "
                              "{topology.istio.io/network: n1}}\n"));
  std::string network;
  f.store.Read("c1", [&](const mesh::ClusterState& state) { network = state.network(); });
  CHECK(network == "flag-net");
}

TEST_CASE("Gateway sink keeps only Deployments with a network label", "[controller][sinks]") {
  Fixture f;
  auto gateways = MakeGatewaySink(f.Context());
  gateways->ApplyEvent(
      WatchEventType::kAdded,
      Yaml("kind: Deployment\nmetadata: {name: ew, namespace: istio-system, labels: "
           "{topology.istio.io/network: n1, topology.kubernetes.io/region: r}}\n"));
  gateways->ApplyEvent(WatchEventType::kModified,
                       Yaml("kind: Deployment\nmetadata: {name: ew, namespace: istio-system}\n"));
  std::size_t count = 99;
  f.store.Read("c1", [&](const mesh::ClusterState& state) { count = state.gateways().size(); });
  CHECK(count == 0);
}

TEST_CASE("Pod sink keeps service accounts and plans the pod's namespace again when one changes",
          "[controller][sinks]") {
  Fixture f;
  auto services = MakeServiceSink(f.Context());
  services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("a", "global")));
  (void)f.TakeKeys();
  auto pods = MakePodSink(f.Context());
  const std::string pod =
      "kind: Pod\nmetadata: {name: a-1, namespace: ns}\nspec: {serviceAccountName: reader}\n";
  pods->ApplyEvent(WatchEventType::kAdded, Yaml(pod));
  // A slice may have named the pod before it was read: its services again.
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  std::string account;
  f.store.Read("c1", [&](const mesh::ClusterState& state) {
    account = state.ServiceAccountOf("ns", "a-1");
  });
  CHECK(account == "reader");
  // Status updates, the bulk of Pod events, change nothing.
  auto updated = Yaml(pod);
  updated["status"] = {{"phase", "Running"}, {"podIP", "10.0.0.9"}};
  pods->ApplyEvent(WatchEventType::kModified, std::move(updated));
  CHECK(f.TakeKeys().empty());
  // A pod of another namespace plans nothing here.
  pods->ApplyEvent(WatchEventType::kAdded,
                   Yaml("kind: Pod\nmetadata: {name: b-1, namespace: other}\nspec: {}\n"));
  CHECK(f.TakeKeys().empty());
  pods->ApplyEvent(WatchEventType::kDeleted, Yaml(pod));
  f.store.Read("c1", [&](const mesh::ClusterState& state) {
    account = state.ServiceAccountOf("ns", "a-1");
  });
  CHECK(account.empty());
  // A relist forgets pods that are gone.
  pods->BeginReplace();
  pods->EndReplace();
  f.store.Read("c1", [&](const mesh::ClusterState& state) {
    account = state.ServiceAccountOf("other", "b-1");
  });
  CHECK(account.empty());
}

TEST_CASE("Gateway address sink follows the east-west gateway Service's address",
          "[controller][sinks]") {
  Fixture f;
  auto services = MakeServiceSink(f.Context());
  services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("a", "global")));
  (void)f.TakeKeys();
  auto sink = MakeGatewayAddressSink(f.Context());
  const auto gateway = [](const std::string& address) {
    return Yaml(
        "kind: Service\nmetadata: {name: ew, namespace: istio-system, labels: "
        "{topology.istio.io/network: n1}}\nspec: {externalIPs: [" +
        address + "]}\n");
  };
  sink->ApplyEvent(WatchEventType::kAdded, gateway("192.0.2.1"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  std::string address;
  const auto read = [&] {
    f.store.Read("c1",
                 [&](const mesh::ClusterState& state) { address = state.AddressOfGateway("ew"); });
    return address;
  };
  CHECK(read() == "192.0.2.1");
  sink->ApplyEvent(WatchEventType::kModified, gateway("192.0.2.1"));
  CHECK(f.TakeKeys().empty());
  sink->ApplyEvent(WatchEventType::kModified, gateway("192.0.2.7"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  CHECK(read() == "192.0.2.7");
  // Without an address it is no longer a gateway address.
  sink->ApplyEvent(WatchEventType::kModified,
                   Yaml("kind: Service\nmetadata: {name: ew, namespace: istio-system, labels: "
                        "{topology.istio.io/network: n1}}\n"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  CHECK(read().empty());
}

}  // namespace
}  // namespace globalsvc::controller
