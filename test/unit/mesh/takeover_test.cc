#include "lib/mesh/takeover.h"

#include <catch2/catch.hpp>
#include <random>

#include "lib/mesh/istio_objects.h"
#include "lib/mesh/object_read_back.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using namespace testing;
using nlohmann::json;

TEST_CASE("Only 'true' and 'false' are takeover values", "[mesh][takeover]") {
  CHECK(ParseTakeover(std::nullopt) == TakeoverValue::kUnset);
  CHECK(ParseTakeover("true") == TakeoverValue::kTrue);
  CHECK(ParseTakeover("false") == TakeoverValue::kFalse);
  CHECK(ParseTakeover("True") == TakeoverValue::kInvalid);
  CHECK(ParseTakeover("") == TakeoverValue::kInvalid);
  CHECK(ParseTakeover("yes") == TakeoverValue::kInvalid);
}

TEST_CASE("The first explicit takeover label wins: local Service, local Namespace, remotes",
          "[mesh][takeover]") {
  using V = std::optional<std::string>;
  struct Row {
    const char* name;
    std::vector<TakeoverVoice> voices;
    bool takeover;
    const char* decided_by;
  };
  const std::vector<Row> rows = {
      {"nothing said", {{"c1", {}, {}, false}, {"c2", {}, {}, false}}, false, ""},
      {"the local Service says true",
       {{"c1", V("true"), V("false"), false}},
       true,
       "the Service in c1"},
      {"an explicit false on the Service beats its namespace",
       {{"c1", V("false"), V("true"), false}, {"c2", V("true"), {}, false}},
       false,
       "the Service in c1"},
      {"the local Namespace before any remote",
       {{"c1", {}, V("true"), false}, {"c2", V("false"), {}, false}},
       true,
       "the Namespace in c1"},
      {"a remote decides when the local cluster says nothing",
       {{"c1", {}, {}, false}, {"c2", {}, V("true"), false}, {"c3", V("false"), {}, false}},
       true,
       "the Namespace in c2"},
      {"an explicit false beats global-only",
       {{"c1", {}, {}, true}, {"c2", V("false"), {}, false}},
       false,
       "the Service in c2"},
      {"global-only anywhere means takeover without a label",
       {{"c1", {}, {}, false}, {"c2", {}, {}, true}},
       true,
       "the global-only scope in c2"},
      {"an invalid value decides nothing",
       {{"c1", V("yes"), {}, false}, {"c2", V("false"), {}, false}},
       false,
       "the Service in c2"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    const TakeoverDecision decision = DecideTakeover(row.voices);
    CHECK(decision.takeover == row.takeover);
    CHECK(decision.decided_by == row.decided_by);
  }
  const TakeoverDecision invalid =
      DecideTakeover(std::vector<TakeoverVoice>{{"c1", V("yes"), V("1"), false}});
  CHECK_FALSE(invalid.takeover);
  CHECK(invalid.invalid ==
        std::vector<std::string>{"the Service in c1: 'yes'", "the Namespace in c1: '1'"});
}

TEST_CASE("Property: takeover is the first explicit value in order, else any global-only",
          "[mesh][takeover][property]") {
  const std::vector<std::optional<std::string>> values = {std::nullopt, "true", "false", "bogus"};
  std::mt19937 rng(20261206);
  for (int run = 0; run < 2000; ++run) {
    std::vector<TakeoverVoice> voices;
    const int count = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < count; ++i) {
      voices.push_back({"c" + std::to_string(i), values[rng() % values.size()],
                        values[rng() % values.size()], rng() % 3 == 0});
    }
    // The model: the flattened label sequence, its first "true"/"false".
    std::optional<bool> expected;
    for (const auto& voice : voices) {
      for (const auto& label : {voice.service_label, voice.namespace_label}) {
        if (!expected && label && (*label == "true" || *label == "false")) {
          expected = *label == "true";
        }
      }
    }
    if (!expected) {
      expected = std::any_of(voices.begin(), voices.end(),
                             [](const TakeoverVoice& v) { return v.global_only; });
    }
    CHECK(DecideTakeover(voices).takeover == *expected);
    // Order matters only through precedence: a voice that says nothing can
    // move anywhere without changing the outcome.
    voices.push_back({"silent", std::nullopt, std::nullopt, false});
    std::rotate(voices.begin(), voices.end() - 1, voices.end());
    CHECK(DecideTakeover(voices).takeover == *expected);
  }
}

// The guide's world with echo/echo global in both clusters, and a remote-only
// service only cluster2 has.
struct TakeoverWorld : GuideWorld {
  TakeoverWorld() {
    for (ClusterState* cluster : {&cluster1, &cluster2}) {
      cluster->UpsertNamespace(
          {"echo", std::nullopt, "", std::nullopt, std::nullopt, std::nullopt});
      Service echo = GlobalService("echo", "echo");
      echo.selector = {{"app", "echo"}};
      cluster->UpsertService(echo);
    }
    cluster1.UpsertEndpointSlice(
        Slice("echo", "echo", "s1", {ReadyEndpoint("10.244.0.5", "node-1")}));
    cluster2.UpsertEndpointSlice(
        Slice("echo", "echo", "s2", {ReadyEndpoint("10.245.0.7", "node-1")}));
    cluster2.UpsertGatewayAddress({"istio-eastwestgateway", "203.0.113.20"});
    cluster2.UpsertNamespace(
        {"remote-only", std::nullopt, "", std::nullopt, std::nullopt, std::nullopt});
    cluster2.UpsertService(GlobalService("remote-only", "api"));
    cluster2.UpsertEndpointSlice(
        Slice("remote-only", "api", "s3", {ReadyEndpoint("10.245.0.9", "node-2")}));
  }

  std::optional<ServiceEntry> Plan(const std::string& ns, const std::string& name,
                                   Diagnostics& diagnostics) {
    return PlanFor(clusters(), "cluster1", ns, name, diagnostics);
  }

  void Label(ClusterState& cluster, const std::string& ns, const std::string& name,
             std::optional<std::string> takeover) {
    Service service = *cluster.FindService(ServiceKey(ns, name));
    service.takeover_label = std::move(takeover);
    cluster.UpsertService(service);
  }
};

TEST_CASE("Without takeover the objects stay as they were", "[mesh][takeover]") {
  TakeoverWorld world;
  Diagnostics diagnostics;
  auto entry = world.Plan("remote-only", "api", diagnostics);
  REQUIRE(entry);
  CHECK_FALSE(entry->takeover);
  CHECK(entry->cluster_local_host.empty());
  CHECK(ToJson(*entry)["spec"]["hosts"] == json::array({"api.remote-only.mesh.internal"}));
}

TEST_CASE("Takeover of a service this cluster lacks adds its cluster-local host",
          "[mesh][takeover]") {
  TakeoverWorld world;
  world.Label(world.cluster2, "remote-only", "api", "true");
  Diagnostics diagnostics;
  auto entry = world.Plan("remote-only", "api", diagnostics);
  REQUIRE(entry);
  CHECK(entry->takeover);
  CHECK(entry->cluster_local_host == "api.remote-only.svc.cluster.local");
  CHECK(entry->takeover_selector.empty());
  const json inline_shape = ToJson(*entry);
  CHECK(inline_shape["spec"]["hosts"] ==
        json::array({"api.remote-only.mesh.internal", "api.remote-only.svc.cluster.local"}));
  CHECK(inline_shape["metadata"]["labels"][kServiceTakeoverLabel] == "true");
  // Read back, the entry is the same.
  CHECK(ServiceEntryFromJson(inline_shape) == InlineFields(*entry));

  const ServiceObjects objects = RenderServiceObjects(*entry, {});
  CHECK(objects.service_entry["spec"]["hosts"] == inline_shape["spec"]["hosts"]);
  CHECK(objects.service_entry["metadata"]["labels"][kServiceTakeoverLabel] == "true");
  REQUIRE(objects.workload_entries.size() == 1);
  CHECK(objects.workload_entries[0]["metadata"]["labels"][kServiceTakeoverLabel] == "true");
  CHECK_FALSE(objects.workload_entries[0]["metadata"].contains("annotations"));

  SECTION("the cluster domain is an option") {
    PlanOptions options;
    options.target_cluster = "cluster1";
    options.cluster_domain = "corp.example";
    Diagnostics more;
    auto other = PlanService("remote-only", "api", world.clusters(), options, more);
    REQUIRE(other);
    CHECK(other->cluster_local_host == "api.remote-only.svc.corp.example");
  }
  SECTION("a Service of that name appearing here keeps its own name") {
    Service local = GlobalService("remote-only", "api");
    local.scope_label = "cluster";
    world.cluster1.UpsertService(local);
    Diagnostics more;
    auto now = world.Plan("remote-only", "api", more);
    REQUIRE(now);
    CHECK(now->cluster_local_host.empty());
    CHECK(HasDiagnostic(more, DiagnosticCode::kTakeoverNotHonoured));
  }
}

TEST_CASE("Takeover of a global Service this cluster has: the other clusters join it",
          "[mesh][takeover]") {
  TakeoverWorld world;
  world.Label(world.cluster1, "echo", "echo", "true");
  Diagnostics diagnostics;
  auto entry = world.Plan("echo", "echo", diagnostics);
  REQUIRE(entry);
  CHECK(entry->takeover);
  CHECK(entry->cluster_local_host.empty());  // the Kubernetes Service owns it
  CHECK(entry->takeover_selector ==
        std::vector<std::pair<std::string, std::string>>{{"app", "echo"}});
  CHECK(diagnostics.empty());

  const ServiceObjects objects = RenderServiceObjects(*entry, {});
  CHECK(objects.service_entry["spec"]["hosts"] == json::array({"echo.echo.mesh.internal"}));
  REQUIRE(objects.workload_entries.size() == 2);
  int joined = 0;
  for (const json& workload : objects.workload_entries) {
    const json& labels = workload["metadata"]["labels"];
    CHECK(labels[kServiceTakeoverLabel] == "true");
    if (labels[kClusterLabel] == "cluster1") {
      // The Service has its own pods already.
      CHECK_FALSE(labels.contains("app"));
      CHECK_FALSE(workload["metadata"].contains("annotations"));
    } else {
      ++joined;
      CHECK(labels["app"] == "echo");
      CHECK(workload["metadata"]["annotations"][kTakeoverLabelsAnnotation] == "app");
      // Still selected by the ServiceEntry of the global host.
      CHECK(labels.contains(kGlobalServiceLabel));
    }
  }
  CHECK(joined == 1);

  SECTION("a named targetPort is listed on the joining WorkloadEntries") {
    Service echo = *world.cluster1.FindService(ServiceKey("echo", "echo"));
    echo.ports = {{"http", 8000, "TCP", "", 0, "web"}};
    world.cluster1.UpsertService(echo);
    Diagnostics more;
    auto named = world.Plan("echo", "echo", more);
    REQUIRE(named);
    const ServiceObjects rendered = RenderServiceObjects(*named, {});
    for (const json& workload : rendered.workload_entries) {
      if (workload["metadata"]["labels"][kClusterLabel] == "cluster1") {
        CHECK_FALSE(workload["spec"]["ports"].contains("web"));
      } else {
        // A gateway endpoint: reached by service port.
        CHECK(workload["spec"]["ports"]["web"] == 8000);
      }
    }
    // Read back (an earlier run's objects), the endpoints are the plan's.
    const auto read = EntriesFromObjects({rendered.service_entry}, rendered.workload_entries);
    REQUIRE(read.size() == 1);
    CHECK(read[0].endpoints == named->endpoints);
  }
  SECTION("a named targetPort that is also a port name of the global service") {
    // cluster1's port 8000 targets the pods' port "web"; cluster2 has a
    // Service port named "web" of its own.
    Service local = *world.cluster1.FindService(ServiceKey("echo", "echo"));
    local.ports = {{"http", 8000, "TCP", "", 0, "web"}};
    world.cluster1.UpsertService(local);
    Service remote = *world.cluster2.FindService(ServiceKey("echo", "echo"));
    remote.ports = {{"http", 8000, "TCP", "", 0, ""}, {"web", 9000, "TCP", "", 0, ""}};
    world.cluster2.UpsertService(remote);
    Diagnostics more;
    auto named = world.Plan("echo", "echo", more);
    REQUIRE(named);
    const ServiceObjects rendered = RenderServiceObjects(*named, {});
    int joining = 0;
    for (const json& workload : rendered.workload_entries) {
      if (workload["metadata"]["labels"][kClusterLabel] == "cluster1") continue;
      ++joining;
      CHECK(workload["spec"]["ports"]["web"] == 8000);
      CHECK(workload["metadata"]["annotations"][kTakeoverPortsAnnotation] == "web");
    }
    CHECK(joining == 1);
    // Read back, "web" is the Service's targetPort, not the global port.
    const auto read = EntriesFromObjects({rendered.service_entry}, rendered.workload_entries);
    REQUIRE(read.size() == 1);
    CHECK(read[0].endpoints == named->endpoints);
  }
  SECTION("the selector's labels count in the content hash") {
    json joining;
    for (const json& workload : objects.workload_entries) {
      if (workload["metadata"]["labels"][kClusterLabel] == "cluster2") joining = workload;
    }
    REQUIRE(joining.is_object());
    const std::string before = OwnedContentHash(joining);
    json edited = joining;
    edited["metadata"]["labels"]["app"] = "other";
    CHECK(OwnedContentHash(edited) != before);
    edited = joining;
    edited["metadata"]["labels"]["unrelated"] = "x";  // someone else's label
    CHECK(OwnedContentHash(edited) == before);
  }
  SECTION("the inline shape cannot add endpoints to a Kubernetes Service") {
    PlanOptions options;
    options.target_cluster = "cluster1";
    options.can_join_kubernetes_service = false;
    Diagnostics more;
    auto inline_entry = PlanService("echo", "echo", world.clusters(), options, more);
    REQUIRE(inline_entry);
    CHECK(inline_entry->takeover_selector.empty());
    CHECK(HasDiagnostic(more, DiagnosticCode::kTakeoverNotHonoured));
  }
  SECTION("a Service without a selector cannot be taken over") {
    Service echo = *world.cluster1.FindService(ServiceKey("echo", "echo"));
    echo.selector.clear();
    world.cluster1.UpsertService(echo);
    Diagnostics more;
    auto plain = world.Plan("echo", "echo", more);
    REQUIRE(plain);
    CHECK(plain->takeover);
    CHECK(plain->takeover_selector.empty());
    CHECK(HasDiagnostic(more, DiagnosticCode::kTakeoverNotHonoured));
  }
}

TEST_CASE("A remote's takeover label does not take over a Service that says false here",
          "[mesh][takeover]") {
  TakeoverWorld world;
  world.Label(world.cluster2, "echo", "echo", "true");
  world.Label(world.cluster1, "echo", "echo", "false");
  Diagnostics diagnostics;
  auto entry = world.Plan("echo", "echo", diagnostics);
  REQUIRE(entry);
  CHECK_FALSE(entry->takeover);
  // Without a local word, the remote's label decides; global-only too.
  world.Label(world.cluster1, "echo", "echo", std::nullopt);
  entry = world.Plan("echo", "echo", diagnostics);
  REQUIRE(entry);
  CHECK(entry->takeover);
  world.Label(world.cluster2, "echo", "echo", std::nullopt);
  Service echo = *world.cluster2.FindService(ServiceKey("echo", "echo"));
  echo.scope_label = "global-only";
  world.cluster2.UpsertService(echo);
  entry = world.Plan("echo", "echo", diagnostics);
  REQUIRE(entry);
  CHECK(entry->takeover);
  CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kDeprecatedScope));
}

TEST_CASE("An invalid takeover label is reported and decides nothing", "[mesh][takeover]") {
  TakeoverWorld world;
  world.Label(world.cluster1, "echo", "echo", "yes");
  Diagnostics diagnostics;
  auto entry = world.Plan("echo", "echo", diagnostics);
  REQUIRE(entry);
  CHECK_FALSE(entry->takeover);
  REQUIRE(HasDiagnostic(diagnostics, DiagnosticCode::kInvalidTakeover));
}

TEST_CASE("Property: scope x takeover labels x where the Service exists, planned in cluster c0",
          "[mesh][takeover][property]") {
  const std::vector<std::optional<std::string>> scopes = {"global", "global-only", "cluster",
                                                          std::nullopt};
  const std::vector<std::optional<std::string>> labels = {std::nullopt, "true", "false", "bogus"};
  std::mt19937 rng(61206);
  auto pick = [&](const auto& values) { return values[rng() % values.size()]; };
  for (int run = 0; run < 1500; ++run) {
    struct Say {
      bool has_service, has_namespace, selector;
      std::optional<std::string> scope, service_label, namespace_label;
    };
    std::vector<ClusterState> clusters;
    std::vector<Say> says;
    for (int c = 0; c < 3; ++c) {
      const std::string name = "c" + std::to_string(c);
      ClusterState cluster(name, "net" + std::to_string(c));
      cluster.UpsertNode({"node", "r" + std::to_string(c), "r" + std::to_string(c) + "a", ""});
      cluster.UpsertGateway({"ew", "net" + std::to_string(c), "r" + std::to_string(c), "", ""});
      cluster.UpsertGatewayAddress({"ew", "192.0.2." + std::to_string(c + 1)});
      Say say{rng() % 4 != 0, rng() % 3 != 0, rng() % 4 != 0,
              pick(scopes),   pick(labels),   pick(labels)};
      if (say.has_namespace) {
        Namespace ns{"app", std::nullopt, "", std::nullopt, std::nullopt, std::nullopt};
        ns.takeover_label = say.namespace_label;
        cluster.UpsertNamespace(ns);
      }
      if (say.has_service) {
        Service service = GlobalService("app", "api");
        service.scope_label = say.scope;
        service.takeover_label = say.service_label;
        if (say.selector) service.selector = {{"app", "api"}};
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
    const auto entry = PlanFor(views, "c0", "app", "api", diagnostics);

    // The model, written out from the rules.
    auto exported = [&](const Say& say) {
      return say.has_service && (say.scope == "global" || say.scope == "global-only");
    };
    const bool any_exported = std::any_of(says.begin(), says.end(), exported);
    REQUIRE(entry.has_value() == any_exported);
    if (!entry) continue;
    auto explicit_value = [](const std::optional<std::string>& label) -> std::optional<bool> {
      if (label == "true") return true;
      if (label == "false") return false;
      return std::nullopt;
    };
    std::optional<bool> decided;
    bool global_only = false;
    for (std::size_t c = 0; c < says.size(); ++c) {
      const Say& say = says[c];
      if (c > 0 && !exported(say)) continue;  // only exporting remotes speak
      if (!decided && say.has_service) decided = explicit_value(say.service_label);
      if (!decided && say.has_namespace) decided = explicit_value(say.namespace_label);
      global_only = global_only || (exported(say) && say.scope == "global-only");
    }
    const bool takeover = decided.value_or(global_only);
    const Say& local = says[0];
    INFO("run " << run);
    CHECK(entry->takeover == takeover);
    CHECK(entry->cluster_local_host.empty() == !(takeover && !local.has_service));
    CHECK(entry->takeover_selector.empty() == !(takeover && exported(local) && local.selector));
    CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kTakeoverNotHonoured) ==
          (takeover && local.has_service && !(exported(local) && local.selector)));
    for (const json& workload : RenderServiceObjects(*entry, {}).workload_entries) {
      const json& object_labels = workload["metadata"]["labels"];
      const bool joins = object_labels[kClusterLabel] != "c0" && !entry->takeover_selector.empty();
      CHECK(object_labels.contains("app") == joins);
    }
  }
}

}  // namespace
}  // namespace globalsvc::mesh
