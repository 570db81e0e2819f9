// What a cluster's sinks refuse to hold: records beyond the cluster's object
// quota, and anything of a namespace the filter refuses.

#include <catch2/catch.hpp>

#include "controller/namespace_filter.h"
#include "controller/projection_sinks.h"
#include "test/unit/controller/sink_test_support.h"

namespace globalsvc::controller {
namespace {

using kube::WatchEventType;

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

}  // namespace
}  // namespace globalsvc::controller
