#include "lib/mesh/segments.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

#include "lib/mesh/istio_objects.h"
#include "lib/mesh/object_decoder.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using namespace testing;
using nlohmann::json;

void JoinSegment(ClusterState& cluster, const std::optional<std::string>& segment) {
  Namespace ns;
  ns.name = "istio-system";
  ns.network_label = cluster.network();
  ns.segment_label = segment;
  cluster.UpsertNamespace(ns);
}

ClusterState MakeCluster(int index) {
  const std::string n = std::to_string(index);
  ClusterState cluster("c" + n, "net" + n);
  cluster.UpsertNode({"node", "r" + n, "r" + n + "a", ""});
  cluster.UpsertGateway({"ew", "net" + n, "r" + n, "", ""});
  cluster.UpsertGatewayAddress({"ew", "192.0.2." + std::to_string(index + 1)});
  return cluster;
}

void Export(ClusterState& cluster, int index, const std::optional<std::string>& scope,
            std::vector<std::pair<std::string, std::string>> labels = {}) {
  Service service = GlobalService("app", "api");
  service.scope_label = scope;
  service.labels = std::move(labels);
  cluster.UpsertService(service);
  cluster.UpsertEndpointSlice(
      Slice("app", "api", "s", {ReadyEndpoint("10.0." + std::to_string(index) + ".1", "node")}));
}

std::vector<ServiceEntry> PlanAll(const std::vector<const ClusterState*>& clusters,
                                  const std::string& target, Diagnostics& diagnostics,
                                  const std::string& ns = "app", const std::string& name = "api") {
  PlanOptions options;
  options.target_cluster = target;
  return PlanServiceEntries(ns, name, clusters, options, diagnostics);
}

std::set<std::string> EndpointClusters(const ServiceEntry& entry) {
  std::set<std::string> out;
  for (const auto& endpoint : entry.endpoints)
    out.insert(endpoint.cluster);
  return out;
}

TEST_CASE("A segment domain is a lowercase DNS name of at most 63 characters, not cluster.local",
          "[mesh][segments]") {
  CHECK(SegmentDomainProblem("mesh.acme").empty());
  CHECK(SegmentDomainProblem("acme").empty());
  CHECK_FALSE(SegmentDomainProblem("").empty());
  CHECK_FALSE(SegmentDomainProblem("cluster.local").empty());
  CHECK_FALSE(SegmentDomainProblem("Mesh.Acme").empty());
  CHECK_FALSE(SegmentDomainProblem("mesh..acme").empty());
  CHECK_FALSE(SegmentDomainProblem("-mesh.acme").empty());
  CHECK_FALSE(SegmentDomainProblem("mesh.acme.").empty());
  CHECK_FALSE(SegmentDomainProblem(std::string(64, 'a')).empty());
  CHECK(SegmentDomainProblem(std::string(63, 'a')).empty());
}

TEST_CASE("A Segment decodes with its aliases; a bad domain refuses it, a bad alias is dropped",
          "[mesh][segments]") {
  Diagnostics diagnostics;
  const DecodeContext context{"c0", &diagnostics};
  auto segment = DecodeSegment(json::parse(R"({
    "metadata": {"name": "acme", "namespace": "istio-system"},
    "spec": {"domain": "mesh.acme", "aliases": [
      {"pattern": "{service}.acme"},
      {"pattern": "{service}.api.acme", "selector": {"matchLabels": {"public": "true"}}},
      {"pattern": "{service}.{bogus}.acme"},
      {"pattern": "static.acme"}]}})"),
                               context);
  REQUIRE(segment);
  CHECK(segment->name == "acme");
  CHECK(segment->domain == "mesh.acme");
  REQUIRE(segment->aliases.size() == 2);
  CHECK(segment->aliases[1].match_labels ==
        std::vector<std::pair<std::string, std::string>>{{"public", "true"}});
  CHECK(diagnostics.size() == 2);

  diagnostics.clear();
  CHECK_FALSE(DecodeSegment(
      json::parse(R"({"metadata": {"name": "x"}, "spec": {"domain": "cluster.local"}})"), context));
  CHECK_FALSE(DecodeSegment(json::parse(R"({"metadata": {"name": "x"}, "spec": {}})"), context));
  CHECK_FALSE(
      DecodeSegment(json::parse(R"({"metadata": {"name": "x"}, "spec": {"domain": 7}})"), context));
  CHECK(diagnostics.size() >= 3);
}

TEST_CASE("Membership: the label names a segment the target holds, else default or refused",
          "[mesh][segments]") {
  ClusterState target = MakeCluster(0);
  ClusterState remote = MakeCluster(1);
  target.UpsertSegment({"acme", "mesh.acme", {}});
  auto of = [&](const ClusterState& cluster) {
    return MembershipOf(cluster, target, "istio-system", "mesh.internal");
  };
  CHECK(of(target).name.empty());
  CHECK(of(target).domain == "mesh.internal");
  JoinSegment(target, "acme");
  CHECK(of(target).name == "acme");
  CHECK(of(target).domain == "mesh.acme");
  JoinSegment(target, "nowhere");  // a Segment the target does not hold: default
  CHECK(of(target).name.empty());
  CHECK_FALSE(of(target).refused);

  CHECK(of(remote).name.empty());
  JoinSegment(remote, "default");
  CHECK(of(remote).name.empty());
  JoinSegment(remote, "acme");
  CHECK(of(remote).name == "acme");
  JoinSegment(remote, "beta");
  CHECK(of(remote).refused);
  CHECK(of(remote).reason.find("'beta'") != std::string::npos);
  // The remote's own copy disagrees on the domain.
  JoinSegment(remote, "acme");
  remote.UpsertSegment({"acme", "mesh.other", {}});
  CHECK(of(remote).refused);
  remote.UpsertSegment({"acme", "mesh.acme", {}});
  CHECK_FALSE(of(remote).refused);
}

// The issue's picture: segments acme (c0, c1) and beta (c2); one service
// of each scope exported from every cluster.
TEST_CASE("Two segments: global is seen everywhere under its segment's domain, segment stays home",
          "[mesh][segments]") {
  std::vector<ClusterState> clusters;
  for (int c = 0; c < 3; ++c) {
    ClusterState cluster = MakeCluster(c);
    cluster.UpsertSegment({"acme", "mesh.acme", {}});
    cluster.UpsertSegment({"beta", "mesh.beta", {}});
    JoinSegment(cluster, c < 2 ? "acme" : "beta");
    for (const auto& [name, scope] : std::vector<std::pair<std::string, std::string>>{
             {"g", "global"}, {"s", "segment"}, {"l", "cluster"}}) {
      Service service = GlobalService("app", name);
      service.scope_label = scope;
      cluster.UpsertService(service);
      cluster.UpsertEndpointSlice(
          Slice("app", name, "s", {ReadyEndpoint("10.0." + std::to_string(c) + ".1", "node")}));
    }
    clusters.push_back(std::move(cluster));
  }
  std::vector<const ClusterState*> views;
  for (const auto& cluster : clusters)
    views.push_back(&cluster);

  Diagnostics diagnostics;
  // In c0 (acme): g from acme (c0, c1) and from beta (c2); s from acme only.
  auto global = PlanAll(views, "c0", diagnostics, "app", "g");
  REQUIRE(global.size() == 2);
  CHECK(global[0].name == "autogen.acme.app.g");
  CHECK(global[0].host == "g.app.mesh.acme");
  CHECK(EndpointClusters(global[0]) == std::set<std::string>{"c0", "c1"});
  CHECK(global[1].name == "autogen.beta.app.g");
  CHECK(global[1].host == "g.app.mesh.beta");
  CHECK(EndpointClusters(global[1]) == std::set<std::string>{"c2"});
  auto segment = PlanAll(views, "c0", diagnostics, "app", "s");
  REQUIRE(segment.size() == 1);
  CHECK(segment[0].host == "s.app.mesh.acme");
  CHECK(EndpointClusters(segment[0]) == std::set<std::string>{"c0", "c1"});
  CHECK(PlanAll(views, "c0", diagnostics, "app", "l").empty());

  // In c2 (beta): its own segment first.
  global = PlanAll(views, "c2", diagnostics, "app", "g");
  REQUIRE(global.size() == 2);
  CHECK(global[0].host == "g.app.mesh.beta");
  CHECK(EndpointClusters(global[0]) == std::set<std::string>{"c2"});
  CHECK(global[1].host == "g.app.mesh.acme");
  CHECK(EndpointClusters(global[1]) == std::set<std::string>{"c0", "c1"});
  segment = PlanAll(views, "c2", diagnostics, "app", "s");
  REQUIRE(segment.size() == 1);
  CHECK(EndpointClusters(segment[0]) == std::set<std::string>{"c2"});
  CHECK(diagnostics.empty());

  // Each segment's ServiceEntry selects only its own WorkloadEntries.
  const ShapeOptions shape;
  CHECK(GlobalServiceLabelValue(global[0], shape) != GlobalServiceLabelValue(global[1], shape));
  const auto objects = RenderServiceObjects(global[1], shape);
  CHECK(objects.service_entry["metadata"]["labels"][kSegmentObjectLabel] == "acme");
}

TEST_CASE("A refused remote contributes nothing and is reported", "[mesh][segments]") {
  ClusterState c0 = MakeCluster(0);
  ClusterState c1 = MakeCluster(1);
  Export(c0, 0, "global");
  Export(c1, 1, "global");
  JoinSegment(c1, "unknown");
  Diagnostics diagnostics;
  auto entries = PlanAll({&c0, &c1}, "c0", diagnostics);
  REQUIRE(entries.size() == 1);
  CHECK(EndpointClusters(entries[0]) == std::set<std::string>{"c0"});
  CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kSegmentRefused));
}

TEST_CASE("Scope segment in the default segment is shared there, with a note", "[mesh][segments]") {
  ClusterState c0 = MakeCluster(0);
  ClusterState c1 = MakeCluster(1);
  Export(c0, 0, "segment");
  Export(c1, 1, "segment");
  Diagnostics diagnostics;
  auto entries = PlanAll({&c0, &c1}, "c0", diagnostics);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].name == "autogen.app.api");
  CHECK(EndpointClusters(entries[0]) == std::set<std::string>{"c0", "c1"});
  CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kSegmentScopeWithoutSegment));
}

TEST_CASE("Takeover is decided and applied in the target's own segment only", "[mesh][segments]") {
  ClusterState c0 = MakeCluster(0);
  ClusterState c1 = MakeCluster(1);
  c0.UpsertSegment({"beta", "mesh.beta", {}});
  JoinSegment(c1, "beta");
  Export(c1, 1, "global-only");  // takeover, but from another segment
  Diagnostics diagnostics;
  auto entries = PlanAll({&c0, &c1}, "c0", diagnostics);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].segment == "beta");
  CHECK_FALSE(entries[0].takeover);
  CHECK(entries[0].cluster_local_host.empty());
  PlanOptions options;
  options.target_cluster = "c0";
  std::vector<const ClusterState*> views = {&c0, &c1};
  CHECK_FALSE(PlanService("app", "api", views, options, diagnostics));
}

struct ClusterSay {
  std::optional<std::string> segment_label;  // on istio-system
  std::optional<std::string> scope;
  std::optional<std::string> takeover;
  bool has_service = true;
};

TEST_CASE("Property: scope x segment x takeover, planned in c0 against a model of the rules",
          "[mesh][segments][property]") {
  const std::vector<std::optional<std::string>> segments = {std::nullopt, "default", "acme", "beta",
                                                            "gamma"};
  const std::vector<std::optional<std::string>> scopes = {"global", "global-only", "segment",
                                                          "cluster", std::nullopt};
  const std::vector<std::optional<std::string>> takeovers = {std::nullopt, "true", "false"};
  std::mt19937 rng(20261206);
  auto pick = [&](const auto& values) { return values[rng() % values.size()]; };
  for (int run = 0; run < 2000; ++run) {
    // c0 holds copies of acme and beta (sometimes), never gamma.
    const bool has_acme = rng() % 4 != 0;
    const bool has_beta = rng() % 4 != 0;
    std::vector<ClusterState> clusters;
    std::vector<ClusterSay> says;
    for (int c = 0; c < 4; ++c) {
      ClusterState cluster = MakeCluster(c);
      ClusterSay say{pick(segments), pick(scopes), pick(takeovers), rng() % 5 != 0};
      JoinSegment(cluster, say.segment_label);
      if (c == 0 && has_acme) cluster.UpsertSegment({"acme", "mesh.acme", {}});
      if (c == 0 && has_beta) cluster.UpsertSegment({"beta", "mesh.beta", {}});
      if (say.has_service) {
        Service service = GlobalService("app", "api");
        service.scope_label = say.scope;
        service.takeover_label = say.takeover;
        cluster.UpsertService(service);
        cluster.UpsertEndpointSlice(
            Slice("app", "api", "s", {ReadyEndpoint("10.0." + std::to_string(c) + ".1", "node")}));
      }
      clusters.push_back(std::move(cluster));
      says.push_back(say);
    }
    std::vector<const ClusterState*> views;
    for (const auto& cluster : clusters)
      views.push_back(&cluster);
    Diagnostics diagnostics;
    const auto entries = PlanAll(views, "c0", diagnostics);

    // The model, written out from the rules.
    auto known = [&](const std::string& s) {
      return (s == "acme" && has_acme) || (s == "beta" && has_beta);
    };
    auto label = [](const ClusterSay& say) {
      return say.segment_label.value_or("") == "default" ? std::string()
                                                         : say.segment_label.value_or("");
    };
    const std::string own = known(label(says[0])) ? label(says[0]) : "";
    std::map<std::string, std::set<std::string>> expected;  // segment -> endpoint clusters
    std::optional<bool> decided;
    bool global_only = false;
    for (int c = 0; c < 4; ++c) {
      const ClusterSay& say = says[static_cast<std::size_t>(c)];
      const bool exported =
          say.has_service &&
          (say.scope == "global" || say.scope == "global-only" || say.scope == "segment");
      std::string segment = label(say);
      if (c == 0) {
        segment = own;
      } else if (!segment.empty() && !known(segment)) {
        continue;  // refused
      }
      const bool local = segment == own;
      if (!exported && c > 0) continue;
      if (local) {
        // Takeover voices: the local Service (even unexported), then
        // exporting remotes of the same segment.
        if (!decided && say.has_service && say.takeover) decided = say.takeover == "true";
        if (exported && say.scope == "global-only") global_only = true;
      }
      if (!exported) continue;
      if (!local && say.scope == "segment") continue;
      expected[segment].insert("c" + std::to_string(c));
    }
    INFO("run " << run);
    std::map<std::string, std::set<std::string>> got;
    for (const auto& entry : entries) {
      got[entry.segment] = EndpointClusters(entry);
      const std::string domain = entry.segment.empty() ? "mesh.internal" : "mesh." + entry.segment;
      CHECK(entry.host == "api.app." + domain);
      CHECK(entry.name ==
            (entry.segment.empty() ? "autogen.app.api" : "autogen." + entry.segment + ".app.api"));
      if (entry.segment != own) CHECK_FALSE(entry.takeover);
    }
    REQUIRE(got == expected);
    if (!entries.empty() && entries.front().segment == own) {
      CHECK(entries.front().takeover == decided.value_or(global_only));
    }
    // The target's own segment comes first; the others by name.
    for (std::size_t i = 2; i < entries.size(); ++i)
      CHECK(entries[i - 1].segment < entries[i].segment);
  }
}

}  // namespace
}  // namespace globalsvc::mesh

namespace globalsvc::mesh {
namespace {

TEST_CASE("Two segments with one domain: the second's entry is left out, reported",
          "[mesh][segments]") {
  ClusterState c0 = MakeCluster(0);
  ClusterState c1 = MakeCluster(1);
  ClusterState c2 = MakeCluster(2);
  c0.UpsertSegment({"beta", "mesh.shared", {}});
  c0.UpsertSegment({"gamma", "mesh.shared", {}});
  JoinSegment(c1, "beta");
  JoinSegment(c2, "gamma");
  Export(c0, 0, "global");
  Export(c1, 1, "global");
  Export(c2, 2, "global");
  Diagnostics diagnostics;
  auto entries = PlanAll({&c0, &c1, &c2}, "c0", diagnostics);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].host == "api.app.mesh.internal");
  CHECK(entries[1].host == "api.app.mesh.shared");
  CHECK(EndpointClusters(entries[1]) == std::set<std::string>{"c1"});
  CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kInvalidSegment));
}

}  // namespace
}  // namespace globalsvc::mesh
