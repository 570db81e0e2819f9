// The reflector sinks that turn watch events into MeshStore records: what they
// store, which ServiceEntry keys they hand on, and what they ignore.

#include "controller/projection_sinks.h"

#include <catch2/catch.hpp>

#include "controller/service_entry_observer.h"
#include "lib/base/yaml_json.h"

namespace globalsvc::controller {
namespace {

using kube::WatchEventType;

nlohmann::json Yaml(const std::string& text) {
  auto docs = ParseYamlDocuments(text);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  return (*docs)[0];
}

struct Fixture {
  MeshStore store;
  std::vector<std::vector<std::string>> emitted;
  mesh::Diagnostics problems;

  SinkContext Context(std::string network_override = "") {
    SinkContext context;
    context.cluster = "c1";
    context.network_override = std::move(network_override);
    context.store = &store;
    context.on_keys = [this](std::vector<std::string> keys) { emitted.push_back(std::move(keys)); };
    context.on_diagnostics = [this](const mesh::Diagnostics& d) {
      problems.insert(problems.end(), d.begin(), d.end());
    };
    return context;
  }

  std::vector<std::string> TakeKeys() {
    std::vector<std::string> all;
    for (auto& batch : emitted)
      all.insert(all.end(), batch.begin(), batch.end());
    emitted.clear();
    return all;
  }
};

std::string ServiceYaml(const std::string& name, const std::string& scope,
                        const std::string& extra = "") {
  return "kind: Service\nmetadata: {name: " + name +
         ", namespace: ns, labels: {solo.io/service-scope: " + scope + "}" + extra +
         "}\nspec: {ports: [{name: http, port: 80}]}\n";
}

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

TEST_CASE("ServiceEntry names map back to service keys", "[controller][observer]") {
  CHECK(KeyOfServiceEntryName("autogen.httpbin.in-ambient") == "httpbin/in-ambient");
  CHECK(KeyOfServiceEntryName("autogen.ns.svc.with.dots") == "ns/svc.with.dots");
  CHECK_FALSE(KeyOfServiceEntryName("autogen.nodot"));
  CHECK_FALSE(KeyOfServiceEntryName("autogen..x"));
  CHECK_FALSE(KeyOfServiceEntryName("autogen.ns."));
  CHECK_FALSE(KeyOfServiceEntryName("user-entry"));
}

TEST_CASE("The observer tracks ownership and the owned-fields hash", "[controller][observer]") {
  std::vector<std::string> keys;
  ServiceEntryObserver observer(
      [&](std::vector<std::string> k) { keys.insert(keys.end(), k.begin(), k.end()); });
  auto entry = Yaml(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: autogen.ns.a
  namespace: istio-system
  uid: u1
  resourceVersion: "7"
  labels: {app.kubernetes.io/managed-by: globalsvc, team: extra}
spec: {hosts: [a.ns.mesh.internal], exportTo: ["*"]}
)");
  observer.BeginReplace();
  observer.ReplaceItem(nlohmann::json(entry));
  observer.ReplaceItem(
      Yaml("kind: ServiceEntry\nmetadata: {name: unrelated, namespace: istio-system}\n"));
  observer.EndReplace();
  CHECK(observer.synced());
  CHECK(keys == std::vector<std::string>{"ns/a"});
  auto seen = observer.Get("autogen.ns.a");
  REQUIRE(seen);
  CHECK(seen->managed);
  CHECK(seen->uid == "u1");
  // Fields other writers add do not change the hash.
  auto edited = entry;
  edited["metadata"]["labels"]["team"] = "other";
  edited["spec"]["exportTo"] = {"."};
  edited["status"] = {{"addresses", nlohmann::json::array()}};
  CHECK(mesh::ContentHash(edited) == seen->content_hash);
  edited["spec"]["hosts"] = {"b.ns.mesh.internal"};
  CHECK(mesh::ContentHash(edited) != seen->content_hash);
  CHECK(observer.ManagedKeys() == std::vector<std::string>{"ns/a"});
  observer.ApplyEvent(WatchEventType::kDeleted, nlohmann::json(entry));
  CHECK_FALSE(observer.Get("autogen.ns.a"));
}

}  // namespace
}  // namespace globalsvc::controller

namespace globalsvc::controller {
namespace {

TEST_CASE("A cluster's sinks share its object quota: new records beyond it are refused",
          "[controller][sinks]") {
  Fixture f;
  SinkContext context = f.Context();
  context.max_objects = 3;
  auto services = MakeServiceSink(context);
  auto namespaces = MakeNamespaceSink(context);
  namespaces->ApplyEvent(WatchEventType::kAdded, Yaml("kind: Namespace\nmetadata: {name: ns}\n"));
  services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("a", "global")));
  services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("b", "global")));
  CHECK(f.problems.empty());
  for (int i = 0; i < 1500; ++i) {
    services->ApplyEvent(WatchEventType::kAdded,
                         Yaml(ServiceYaml("over-" + std::to_string(i), "global")));
  }
  f.store.Read("c1", [](const mesh::ClusterState& state) {
    CHECK(state.object_count() == 3);
    CHECK(state.FindService("ns/over-0") == nullptr);
  });
  // Reported at the first refusal and once per thousand after it, not 1500 times.
  REQUIRE(f.problems.size() == 2);
  CHECK(f.problems[0].code == mesh::DiagnosticCode::kObjectQuotaExceeded);
  CHECK_THAT(f.problems[1].message, Catch::Contains("1000 new ones refused"));
  // A held record still changes; a removed one makes room.
  f.TakeKeys();
  services->ApplyEvent(WatchEventType::kModified,
                       Yaml(ServiceYaml("a", "global", ", annotations: {x: y}")));
  services->ApplyEvent(WatchEventType::kDeleted, Yaml(ServiceYaml("b", "global")));
  services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("c", "global")));
  f.store.Read("c1", [](const mesh::ClusterState& state) {
    CHECK(state.object_count() == 3);
    CHECK(state.FindService("ns/c") != nullptr);
  });
}

TEST_CASE("A namespace filter keeps nothing of refused namespaces", "[controller][sinks]") {
  Fixture f;
  SinkContext context = f.Context();
  auto filter = NamespaceFilter::Parse("", "kube-system, ns");
  REQUIRE(filter.ok());
  context.namespaces = *filter;
  auto services = MakeServiceSink(f.Context());  // no filter yet: the first connection
  services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("a", "global")));
  f.TakeKeys();
  const auto slice = Yaml(
      "kind: EndpointSlice\naddressType: IPv4\nmetadata: {name: s1, namespace: ns, labels: "
      "{kubernetes.io/service-name: a}}\nendpoints: [{addresses: [10.0.0.1]}]\n");
  MakeEndpointSliceSink(f.Context())->ApplyEvent(WatchEventType::kAdded, nlohmann::json(slice));
  f.TakeKeys();

  // Reconnected with the filter: the relist removes what was held, and new
  // events of the namespace store nothing.
  auto filtered_services = MakeServiceSink(context);
  auto filtered_slices = MakeEndpointSliceSink(context);
  filtered_services->BeginReplace();
  filtered_services->ReplaceItem(Yaml(ServiceYaml("a", "global")));
  filtered_services->EndReplace();
  filtered_slices->BeginReplace();
  filtered_slices->ReplaceItem(nlohmann::json(slice));
  filtered_slices->EndReplace();
  auto keys = f.TakeKeys();
  CHECK(keys == std::vector<std::string>{"ns/a", "ns/a"});
  filtered_services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("b", "global")));
  CHECK(f.TakeKeys().empty());
  f.store.Read("c1", [](const mesh::ClusterState& state) {
    CHECK(state.object_count() == 0);
    CHECK(state.endpoint_slice_count() == 0);
  });
  // Other namespaces are untouched.
  auto other = Yaml(ServiceYaml("c", "global"));
  other["metadata"]["namespace"] = "apps";
  filtered_services->ApplyEvent(WatchEventType::kAdded, std::move(other));
  CHECK(f.TakeKeys() == std::vector<std::string>{"apps/c"});
}

// A Service without a scope label, and one of its slices.
nlohmann::json PlainService(const std::string& name) {
  return Yaml("kind: Service\nmetadata: {name: " + name +
              ", namespace: ns}\nspec: {ports: [{name: http, port: 80}]}\n");
}
nlohmann::json SliceOf(const std::string& service) {
  return Yaml("kind: EndpointSlice\naddressType: IPv4\nmetadata: {name: " + service +
              "-s1, namespace: ns, labels: {kubernetes.io/service-name: " + service +
              "}}\nports: [{name: http, port: 8080}]\nendpoints: [{addresses: [10.0.0.1]}]\n");
}
nlohmann::json NamespaceYaml(const std::string& scope) {
  return Yaml("kind: Namespace\nmetadata: {name: ns" +
              (scope.empty() ? std::string() : ", labels: {solo.io/service-scope: " + scope + "}") +
              "}\n");
}

struct DormancyFixture : Fixture {
  int relists = 0;
  std::unique_ptr<ProjectionSink> namespaces, services, slices;
  DormancyFixture() {
    SinkContext context = Context();
    context.on_relist = [this] { ++relists; };
    namespaces = MakeNamespaceSink(context);
    services = MakeServiceSink(context);
    slices = MakeEndpointSliceSink(context);
  }
  // The relist the sinks asked for: every object listed again.
  void Relist(const std::vector<nlohmann::json>& service_objects,
              const std::vector<nlohmann::json>& slice_objects) {
    services->BeginReplace();
    for (const auto& object : service_objects)
      services->ReplaceItem(nlohmann::json(object));
    services->EndReplace();
    slices->BeginReplace();
    for (const auto& object : slice_objects)
      slices->ReplaceItem(nlohmann::json(object));
    slices->EndReplace();
  }
  const mesh::Service* Service(const mesh::ClusterState& state, const std::string& name) {
    return state.FindService("ns/" + name);
  }
};

TEST_CASE("Services known not to be exported are kept as names only, with their slices",
          "[controller][sinks][dormant]") {
  DormancyFixture f;
  f.namespaces->ApplyEvent(WatchEventType::kAdded, NamespaceYaml(""));
  f.services->ApplyEvent(WatchEventType::kAdded, PlainService("plain"));
  f.services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("opted-out", "cluster")));
  f.services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("shared", "global")));
  for (const char* name : {"plain", "opted-out", "shared"})
    f.slices->ApplyEvent(WatchEventType::kAdded, SliceOf(name));
  f.store.Read("c1", [&](const mesh::ClusterState& state) {
    for (const char* name : {"plain", "opted-out"}) {
      INFO(name);
      REQUIRE(f.Service(state, name) != nullptr);
      CHECK(f.Service(state, name)->dormant);
      CHECK(f.Service(state, name)->ports.empty());
      CHECK(state.FindSlices(std::string("ns/") + name)->begin()->second.endpoints.empty());
      CHECK(state.HasDormantSlices(std::string("ns/") + name));
    }
    CHECK_FALSE(f.Service(state, "shared")->dormant);
    CHECK(f.Service(state, "shared")->ports.size() == 1);
    CHECK(state.FindSlices("ns/shared")->begin()->second.endpoints.size() == 1);
    CHECK(state.object_count() == 7);  // still counted against the quota
  });
  CHECK(f.relists == 0);

  // Its own label exports it: whole at once, but its slices need a relist.
  f.services->ApplyEvent(WatchEventType::kModified, Yaml(ServiceYaml("opted-out", "global")));
  CHECK(f.relists == 1);
  f.store.Read("c1", [&](const mesh::ClusterState& state) {
    CHECK_FALSE(f.Service(state, "opted-out")->dormant);
    CHECK(state.HasDormantSlices("ns/opted-out"));
  });
  f.Relist({PlainService("plain"), Yaml(ServiceYaml("opted-out", "global")),
            Yaml(ServiceYaml("shared", "global"))},
           {SliceOf("plain"), SliceOf("opted-out"), SliceOf("shared")});
  CHECK(f.relists == 1);
  f.store.Read("c1", [&](const mesh::ClusterState& state) {
    CHECK_FALSE(state.HasDormantSlices("ns/opted-out"));
    CHECK(state.FindSlices("ns/opted-out")->begin()->second.endpoints.size() == 1);
    CHECK(state.HasDormantSlices("ns/plain"));  // still not exported
  });

  // Back to cluster scope: dormant again, no relist needed.
  f.services->ApplyEvent(WatchEventType::kModified, Yaml(ServiceYaml("opted-out", "cluster")));
  CHECK(f.relists == 1);
  f.store.Read("c1", [&](const mesh::ClusterState& state) {
    CHECK(f.Service(state, "opted-out")->dormant);
    CHECK(state.HasDormantSlices("ns/opted-out"));
  });
}

TEST_CASE("A Namespace label narrows at once and widens through a relist",
          "[controller][sinks][dormant]") {
  DormancyFixture f;
  // Listed before its Namespace is known: kept whole.
  f.services->ApplyEvent(WatchEventType::kAdded, PlainService("plain"));
  f.slices->ApplyEvent(WatchEventType::kAdded, SliceOf("plain"));
  f.store.Read("c1", [&](const mesh::ClusterState& state) {
    CHECK_FALSE(f.Service(state, "plain")->dormant);
  });
  f.namespaces->ApplyEvent(WatchEventType::kAdded, NamespaceYaml(""));
  f.store.Read("c1", [&](const mesh::ClusterState& state) {
    CHECK(f.Service(state, "plain")->dormant);
    CHECK(state.HasDormantSlices("ns/plain"));
  });
  f.TakeKeys();

  // The Namespace goes global: the key is handed on and a relist asked for.
  f.namespaces->ApplyEvent(WatchEventType::kModified, NamespaceYaml("global"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/plain"});
  CHECK(f.relists == 1);
  // The slices may be listed again before the Service: the Service, whole
  // again, asks once more, and the next relist completes it.
  f.slices->BeginReplace();
  f.slices->ReplaceItem(SliceOf("plain"));
  f.slices->EndReplace();
  f.services->BeginReplace();
  f.services->ReplaceItem(PlainService("plain"));
  f.services->EndReplace();
  CHECK(f.relists == 2);
  f.Relist({PlainService("plain")}, {SliceOf("plain")});
  f.store.Read("c1", [&](const mesh::ClusterState& state) {
    CHECK_FALSE(f.Service(state, "plain")->dormant);
    CHECK_FALSE(state.HasDormantSlices("ns/plain"));
    CHECK(state.FindSlices("ns/plain")->begin()->second.endpoints.size() == 1);
  });
  CHECK(f.relists == 2);

  // Narrowed again: dormant at once, nothing to list.
  f.namespaces->ApplyEvent(WatchEventType::kModified, NamespaceYaml("cluster"));
  CHECK(f.relists == 2);
  f.store.Read("c1", [&](const mesh::ClusterState& state) {
    CHECK(f.Service(state, "plain")->dormant);
    CHECK(state.HasDormantSlices("ns/plain"));
  });
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

namespace globalsvc::controller {
namespace {

TEST_CASE("Segments and the segment label replan every key; alias fields replan all with aliases",
          "[controller][sinks][segments]") {
  Fixture f;
  auto services = MakeServiceSink(f.Context());
  services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("a", "global")));
  services->ApplyEvent(WatchEventType::kAdded, Yaml(ServiceYaml("b", "global")));
  f.TakeKeys();

  auto segments = MakeSegmentSink(f.Context());
  const auto acme = Yaml(
      "kind: Segment\nmetadata: {name: acme, namespace: istio-system}\n"
      "spec: {domain: mesh.acme}\n");
  segments->ApplyEvent(WatchEventType::kAdded, nlohmann::json(acme));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a", "ns/b"});
  segments->ApplyEvent(WatchEventType::kModified, nlohmann::json(acme));
  CHECK(f.TakeKeys().empty());
  bool held = false;
  f.store.Read("c1", [&](const mesh::ClusterState& state) {
    held = state.FindSegment("acme") && state.FindSegment("acme")->domain == "mesh.acme";
  });
  CHECK(held);
  // A Segment whose domain cannot be used is not held, and is reported.
  segments->ApplyEvent(WatchEventType::kModified,
                       Yaml("kind: Segment\nmetadata: {name: acme, namespace: istio-system}\n"
                            "spec: {domain: cluster.local}\n"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a", "ns/b"});
  CHECK_FALSE(f.problems.empty());
  f.store.Read("c1", [&](const mesh::ClusterState& state) { held = state.FindSegment("acme"); });
  CHECK_FALSE(held);

  auto namespaces = MakeNamespaceSink(f.Context());
  namespaces->ApplyEvent(WatchEventType::kAdded,
                         Yaml("kind: Namespace\nmetadata: {name: istio-system, labels: "
                              "{topology.istio.io/network: n1, admin.solo.io/segment: acme}}\n"));
  f.TakeKeys();
  namespaces->ApplyEvent(WatchEventType::kModified,
                         Yaml("kind: Namespace\nmetadata: {name: istio-system, labels: "
                              "{topology.istio.io/network: n1, admin.solo.io/segment: beta}}\n"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a", "ns/b"});

  // Without aliases, a label change replans its own key only; with them,
  // every key (another service may win or lose an alias).
  services->ApplyEvent(WatchEventType::kModified,
                       Yaml(ServiceYaml("a", "global", ", annotations: {tier: web}")));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a"});
  segments->ApplyEvent(WatchEventType::kModified,
                       Yaml("kind: Segment\nmetadata: {name: acme, namespace: istio-system}\n"
                            "spec: {domain: mesh.acme, aliases: [{pattern: '{service}.acme'}]}\n"));
  f.TakeKeys();
  services->ApplyEvent(WatchEventType::kModified,
                       Yaml(ServiceYaml("a", "global", ", annotations: {tier: db}")));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a", "ns/b"});
  segments->ApplyEvent(WatchEventType::kDeleted,
                       Yaml("kind: Segment\nmetadata: {name: acme, namespace: istio-system}\n"));
  CHECK(f.TakeKeys() == std::vector<std::string>{"ns/a", "ns/b"});
}

}  // namespace
}  // namespace globalsvc::controller
