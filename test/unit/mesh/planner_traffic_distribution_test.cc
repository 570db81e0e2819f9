// The traffic distribution the planner requests and writes: annotation, spec,
// the Namespace's annotation, the remotes' agreed value, and PreferNetwork.

#include <catch2/catch.hpp>

#include "lib/mesh/model.h"
#include "lib/mesh/planner.h"
#include "lib/mesh/service_entry.h"
#include "lib/mesh/traffic_distribution.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {
namespace {

using namespace testing;  // the test world's builders

TEST_CASE("Traffic distribution: annotation, then spec, then PreferNetwork",
          "[planner][traffic-distribution]") {
  struct Case {
    const char* name;
    std::optional<std::string> annotation;
    std::string spec;
    std::string expected;
    bool unknown_diagnostic;
  };
  const std::vector<Case> cases = {
      {"annotation wins", "PreferClose", "PreferSameNode", "PreferClose", false},
      {"spec when no annotation", std::nullopt, "PreferSameZone", "PreferSameZone", false},
      {"empty annotation falls back to spec", "", "PreferClose", "PreferClose", false},
      {"default", std::nullopt, "", "PreferNetwork", false},
      {"case preserved, compared case-insensitively", "preferclose", "", "preferclose", false},
      {"unknown value passes through with a warning", "Nearest", "", "Nearest", true},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      GuideWorld world;
      Service service = GlobalService("httpbin", "in-ambient");
      service.traffic_distribution_annotation = c.annotation;
      service.traffic_distribution_spec = c.spec;
      world.cluster1.UpsertService(service);
      Diagnostics diagnostics;
      auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
      REQUIRE(entry);
      CHECK(RequestedTrafficDistribution(*entry) == c.expected);
      CHECK(entry->traffic_distribution == WrittenTrafficDistribution(c.expected));
      CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kUnknownTrafficDistribution) ==
            c.unknown_diagnostic);
    }
  }
}

TEST_CASE("Traffic distribution: the Namespace's annotation when the Service sets none",
          "[planner][traffic-distribution]") {
  struct Case {
    const char* name;
    std::optional<std::string> service_annotation;
    std::string spec;
    std::optional<std::string> namespace_annotation;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"namespace when the Service sets none", std::nullopt, "", "PreferSameNode",
       "PreferSameNode"},
      {"the Service's annotation first", "PreferClose", "", "PreferSameNode", "PreferClose"},
      {"the Service's spec before the namespace", std::nullopt, "PreferClose", "PreferSameNode",
       "PreferClose"},
      {"an empty namespace annotation means the default", std::nullopt, "", "", "PreferNetwork"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    GuideWorld world;
    Namespace ns;
    ns.name = "httpbin";
    ns.traffic_distribution_annotation = c.namespace_annotation;
    world.cluster1.UpsertNamespace(ns);
    Service service = GlobalService("httpbin", "in-ambient");
    service.traffic_distribution_annotation = c.service_annotation;
    service.traffic_distribution_spec = c.spec;
    world.cluster1.UpsertService(service);
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
    REQUIRE(entry);
    CHECK(RequestedTrafficDistribution(*entry) == c.expected);
  }
}

TEST_CASE("PreferNetwork and PreferRegion are written as PreferClose, and the request is kept",
          "[planner][traffic-distribution]") {
  struct Case {
    std::optional<std::string> annotation;
    std::string written;
    std::string requested_annotation;
  };
  const std::vector<Case> cases = {
      {std::nullopt, "PreferClose", "PreferNetwork"},
      {"PreferRegion", "PreferClose", "PreferRegion"},
      {"prefernetwork", "PreferClose", "prefernetwork"},
      {"PreferClose", "PreferClose", "PreferClose"},
      {"PreferSameNode", "PreferSameNode", "PreferSameNode"},
      {"Any", "Any", "Any"},
  };
  for (const Case& c : cases) {
    INFO(c.annotation.value_or("(unset)"));
    GuideWorld world;
    Service service = GlobalService("httpbin", "in-ambient");
    service.traffic_distribution_annotation = c.annotation;
    world.cluster1.UpsertService(service);
    Diagnostics diagnostics;
    auto entry = PlanFor(world.clusters(), "cluster1", "httpbin", "in-ambient", diagnostics);
    REQUIRE(entry);
    const nlohmann::json object = ToJson(*entry);
    const auto& annotations = object["metadata"]["annotations"];
    CHECK(annotations[kTrafficDistributionAnnotation] == c.written);
    CHECK(annotations[kRequestedTrafficDistributionAnnotation] == c.requested_annotation);
    // Read back, the entry is the same, so a restart writes nothing.
    auto read_back = ServiceEntryFromJson(object);
    REQUIRE(read_back);
    CHECK(*read_back == testing::InlineFields(*entry));
    CHECK(ContentHash(object) == ContentHash(*entry));
  }
}

TEST_CASE("Without a local service, the remote clusters' agreed value is used",
          "[planner][traffic-distribution]") {
  ClusterState local{"cluster0", "net0"};
  ClusterState a{"cluster1", "net1"};
  ClusterState b{"cluster2", "net2"};
  Service sa = GlobalService("ns", "svc");
  Service sb = GlobalService("ns", "svc");
  sa.traffic_distribution_annotation = "PreferClose";

  SECTION("agreement") {
    sb.traffic_distribution_spec = "preferclose";
    a.UpsertService(sa);
    b.UpsertService(sb);
    Diagnostics diagnostics;
    auto entry = PlanFor({&local, &a, &b}, "cluster0", "ns", "svc", diagnostics);
    REQUIRE(entry);
    CHECK(entry->traffic_distribution == "PreferClose");
    CHECK(diagnostics.empty());
  }
  SECTION("values that upstream applies alike agree") {
    sb.traffic_distribution_annotation = "PreferNetwork";  // written as PreferClose too
    a.UpsertService(sa);
    b.UpsertService(sb);
    Diagnostics diagnostics;
    auto entry = PlanFor({&local, &a, &b}, "cluster0", "ns", "svc", diagnostics);
    REQUIRE(entry);
    CHECK(entry->traffic_distribution == "PreferClose");
    CHECK(diagnostics.empty());
  }
  SECTION("disagreement falls back to PreferNetwork and says so") {
    sb.traffic_distribution_annotation = "PreferSameNode";
    a.UpsertService(sa);
    b.UpsertService(sb);
    Diagnostics diagnostics;
    auto entry = PlanFor({&local, &a, &b}, "cluster0", "ns", "svc", diagnostics);
    REQUIRE(entry);
    CHECK(RequestedTrafficDistribution(*entry) == "PreferNetwork");
    CHECK(entry->traffic_distribution == "PreferClose");
    CHECK(HasDiagnostic(diagnostics, DiagnosticCode::kTrafficDistributionDisagreement));
  }
  SECTION("the local service decides even when remotes differ") {
    Service mine = GlobalService("ns", "svc");
    mine.traffic_distribution_annotation = "PreferRegion";
    local.UpsertService(mine);
    a.UpsertService(sa);
    b.UpsertService(sb);
    Diagnostics diagnostics;
    auto entry = PlanFor({&local, &a, &b}, "cluster0", "ns", "svc", diagnostics);
    REQUIRE(entry);
    CHECK(RequestedTrafficDistribution(*entry) == "PreferRegion");
    CHECK(entry->traffic_distribution == "PreferClose");
    CHECK(diagnostics.empty());
  }
}

}  // namespace
}  // namespace globalsvc::mesh
