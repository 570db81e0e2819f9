// Services known not to be exported are kept dormant, as names only, and made
// whole again through a relist when a label exports them.

#include <catch2/catch.hpp>

#include "controller/projection_sinks.h"
#include "test/unit/controller/sink_test_support.h"

namespace globalsvc::controller {
namespace {

using kube::WatchEventType;

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

}  // namespace
}  // namespace globalsvc::controller
