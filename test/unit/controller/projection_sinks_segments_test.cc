// The Segment sink and the segment label: which service keys their changes
// replan, with and without aliases.

#include <catch2/catch.hpp>

#include "controller/projection_sinks.h"
#include "test/unit/controller/sink_test_support.h"

namespace globalsvc::controller {
namespace {

using kube::WatchEventType;

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
