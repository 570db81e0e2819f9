#include "lib/mesh/aliases.h"

#include <catch2/catch.hpp>

#include "lib/mesh/segments.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using namespace testing;

Service Tiered(const std::string& name, const std::string& tier) {
  Service service = GlobalService("shop", name);
  service.labels = {{"acme.io/public", "true"}, {"acme.io/tier", tier}};
  service.annotations = {{"acme.io/env", "prod"}};
  return service;
}

TEST_CASE("Alias templates expand service, namespace, labels and annotations", "[mesh][aliases]") {
  const Service cart = Tiered("cart", "api");
  struct Row {
    const char* pattern;
    const char* host;  // empty: skipped
  };
  const std::vector<Row> rows = {
      {"{service}.acme", "cart.acme"},
      {"{service}.{namespace}.acme", "cart.shop.acme"},
      {"{service}.{labels['acme.io/tier']}.acme", "cart.api.acme"},
      {"{service}.{labels[\"acme.io/tier\"]}.acme", "cart.api.acme"},
      {"{service}.{annotations['acme.io/env']}.acme", "cart.prod.acme"},
      {"{service}.{labels['missing']}.acme", ""},
      {"{service}.{annotations['missing']}.acme", ""},
      {"{service}.{unknown}.acme", ""},
      {"{service.acme", ""},
      {"{service}}.acme", ""},
      {"{service}.Acme", ""},  // not a lowercase DNS name
      {"{service}..acme", ""},
      {"{service}.svc.cluster.local", ""},  // Kubernetes' own names
  };
  for (const Row& row : rows) {
    INFO(row.pattern);
    const AliasExpansion expansion = ExpandAlias(row.pattern, cart, "cluster.local");
    CHECK(expansion.host == row.host);
    CHECK(expansion.skipped.empty() == (std::string(row.host) != ""));
  }
  CHECK(AliasPatternProblem("{service}.acme").empty());
  CHECK_FALSE(AliasPatternProblem("static.acme").empty());
  CHECK_FALSE(AliasPatternProblem("{nope}.acme").empty());
  CHECK_FALSE(AliasPatternProblem("").empty());
}

TEST_CASE("An alias selector matches the Service's labels", "[mesh][aliases]") {
  const Service cart = Tiered("cart", "api");
  CHECK(AliasSelects({"{service}.acme", {}}, cart));
  CHECK(AliasSelects({"{service}.acme", {{"acme.io/public", "true"}}}, cart));
  CHECK_FALSE(AliasSelects({"{service}.acme", {{"acme.io/public", "false"}}}, cart));
  CHECK_FALSE(AliasSelects({"{service}.acme", {{"other", "true"}}}, cart));
}

// One cluster in segment acme, whose aliases are the reference's examples.
struct AliasWorld {
  ClusterState c0{"c0", "net0"};

  AliasWorld() {
    c0.UpsertNode({"node", "r0", "r0a", ""});
    Namespace control_plane;
    control_plane.name = "istio-system";
    control_plane.segment_label = "acme";
    c0.UpsertNamespace(control_plane);
    c0.UpsertSegment({"acme",
                      "mesh.acme",
                      {{"{service}.acme", {}},
                       {"{service}.{labels['acme.io/tier']}.acme", {}},
                       {"{service}.api.acme", {{"acme.io/public", "true"}}}}});
  }

  void Add(Service service, const std::string& address) {
    const std::string name = service.name;
    const std::string ns = service.namespace_name;
    c0.UpsertService(std::move(service));
    c0.UpsertEndpointSlice(Slice(ns, name, "s", {ReadyEndpoint(address, "node")}));
  }

  std::vector<ServiceEntry> Plan(const std::string& ns, const std::string& name,
                                 Diagnostics& diagnostics) const {
    PlanOptions options;
    options.target_cluster = "c0";
    std::vector<const ClusterState*> views = {&c0};
    return PlanServiceEntries(ns, name, views, options, diagnostics);
  }
};

TEST_CASE("Aliases are added to the segment's host; a missing label skips one, reported",
          "[mesh][aliases]") {
  AliasWorld world;
  world.Add(Tiered("cart", "web"), "10.0.0.1");
  Service plain = GlobalService("shop", "plain");
  world.Add(plain, "10.0.0.2");
  Diagnostics diagnostics;
  auto entries = world.Plan("shop", "cart", diagnostics);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].host == "cart.shop.mesh.acme");
  CHECK(entries[0].alias_hosts ==
        std::vector<std::string>{"cart.acme", "cart.api.acme", "cart.web.acme"});
  CHECK(HostsJson(entries[0]) ==
        nlohmann::json{"cart.shop.mesh.acme", "cart.acme", "cart.api.acme", "cart.web.acme"});
  CHECK(diagnostics.empty());

  entries = world.Plan("shop", "plain", diagnostics);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].alias_hosts == std::vector<std::string>{"plain.acme"});
  CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kAliasSkipped));

  // The hosts survive the trip through JSON.
  auto read = ServiceEntryFromJson(ToJson(world.Plan("shop", "cart", diagnostics)[0]));
  REQUIRE(read);
  CHECK(read->alias_hosts ==
        std::vector<std::string>{"cart.acme", "cart.api.acme", "cart.web.acme"});
  CHECK(read->segment == "acme");
  CHECK(read->cluster_local_host.empty());
}

TEST_CASE("Two services expanding to one alias: the first by namespace/name keeps it",
          "[mesh][aliases]") {
  AliasWorld world;
  // cart in namespaces "a" and "b": both expand {service}.acme to cart.acme.
  Service first = Tiered("cart", "web");
  first.namespace_name = "a";
  Service second = Tiered("cart", "db");
  second.namespace_name = "b";
  world.Add(first, "10.0.0.1");
  world.Add(second, "10.0.0.2");
  Diagnostics diagnostics;
  auto a = world.Plan("a", "cart", diagnostics);
  REQUIRE(a.size() == 1);
  CHECK(a[0].alias_hosts ==
        std::vector<std::string>{"cart.acme", "cart.api.acme", "cart.web.acme"});
  CHECK_FALSE(HasDiagnostic(diagnostics, DiagnosticCode::kAliasCollision));
  auto b = world.Plan("b", "cart", diagnostics);
  REQUIRE(b.size() == 1);
  CHECK(b[0].alias_hosts == std::vector<std::string>{"cart.db.acme"});
  CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kAliasCollision));

  // When the winner stops being global, the other gets the alias.
  first.scope_label = "cluster";
  world.c0.UpsertService(first);
  diagnostics.clear();
  b = world.Plan("b", "cart", diagnostics);
  REQUIRE(b.size() == 1);
  CHECK(b[0].alias_hosts == std::vector<std::string>{"cart.acme", "cart.api.acme", "cart.db.acme"});
  CHECK(diagnostics.empty());
}

TEST_CASE("The default segment has no aliases", "[mesh][aliases]") {
  AliasWorld world;
  Namespace control_plane;
  control_plane.name = "istio-system";
  world.c0.UpsertNamespace(control_plane);  // no segment label
  world.Add(Tiered("cart", "web"), "10.0.0.1");
  Diagnostics diagnostics;
  auto entries = world.Plan("shop", "cart", diagnostics);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].host == "cart.shop.mesh.internal");
  CHECK(entries[0].alias_hosts.empty());
}

}  // namespace
}  // namespace globalsvc::mesh

namespace globalsvc::mesh {
namespace {

TEST_CASE("An alias under a segment's domain is skipped: those names are default hosts",
          "[mesh][aliases]") {
  AliasWorld world;
  world.c0.UpsertSegment({"acme",
                          "mesh.acme",
                          {{"{labels['x']}.shop.mesh.acme", {}}, {"{service}.mesh.internal", {}}}});
  Service cart = Tiered("cart", "web");
  cart.labels.emplace_back("x", "other");
  std::sort(cart.labels.begin(), cart.labels.end());
  world.Add(cart, "10.0.0.1");
  Diagnostics diagnostics;
  auto entries = world.Plan("shop", "cart", diagnostics);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].alias_hosts.empty());
  CHECK(std::count_if(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& d) {
          return d.code == DiagnosticCode::kAliasSkipped;
        }) == 2);
}

}  // namespace
}  // namespace globalsvc::mesh
