// Which takeover label decides, checked on its own and, as properties against a
// model, through the planner for any scope and labels in three clusters.

#include "lib/mesh/takeover.h"

#include <catch2/catch.hpp>
#include <random>

#include "lib/mesh/istio_objects.h"
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
