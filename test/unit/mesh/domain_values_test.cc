// Small domain value tables: scope labels, traffic distributions, port
// protocols and locality strings.

#include <catch2/catch.hpp>

#include "lib/mesh/locality.h"
#include "lib/mesh/port_protocol.h"
#include "lib/mesh/scope.h"
#include "lib/mesh/traffic_distribution.h"

namespace globalsvc::mesh {
namespace {

TEST_CASE("Scope labels", "[mesh][scope]") {
  CHECK(ParseScope(std::nullopt) == ScopeValue::kUnset);
  CHECK(ParseScope("global") == ScopeValue::kGlobal);
  CHECK(ParseScope("global-only") == ScopeValue::kGlobalOnly);
  CHECK(ParseScope("cluster") == ScopeValue::kCluster);
  CHECK(ParseScope("local") == ScopeValue::kLocal);
  CHECK(ParseScope("") == ScopeValue::kEmpty);
  CHECK(ParseScope("GLOBAL") == ScopeValue::kUnknown);
  auto decision = DecideScope(std::nullopt, "global");
  CHECK(decision.exported);
  CHECK(decision.from_namespace);
  decision = DecideScope("cluster", "global");
  CHECK_FALSE(decision.exported);
  CHECK_FALSE(decision.from_namespace);
}

TEST_CASE("Traffic distribution values: what is written and upstream's routing preference",
          "[mesh][traffic-distribution]") {
  using S = LocalityScope;
  struct Case {
    const char* value;
    bool known;
    const char* written;
    std::vector<LocalityScope> preference;  // of the value itself, as upstream istiod reads it
  };
  // The preferences are those the istiod shape test reads from istiod's
  // ambient index (test/integration/istiod/object_shape_test.cc).
  const std::vector<Case> cases = {
      {"PreferNetwork", true, "PreferClose", {}},
      {"prefernetwork", true, "PreferClose", {}},
      {"PreferRegion", true, "PreferClose", {}},
      {"PreferClose", true, "PreferClose", {S::kNetwork, S::kRegion, S::kZone}},
      {"PREFERSAMEZONE", true, "PREFERSAMEZONE", {S::kNetwork, S::kRegion, S::kZone}},
      {"PreferSameNode",
       true,
       "PreferSameNode",
       {S::kNetwork, S::kRegion, S::kZone, S::kSubzone, S::kNode}},
      {"Any", false, "Any", {}},
      {"Nearest", false, "Nearest", {}},
      {"", false, "", {}},
  };
  for (const Case& c : cases) {
    INFO(c.value);
    CHECK(RoutingPreference(ParseTrafficDistribution(c.value)) == c.preference);
    CHECK(IsKnownTrafficDistribution(c.value) == c.known);
    CHECK(WrittenTrafficDistribution(c.value) == c.written);
    // Whatever is asked for, what is written never gives less preference
    // than upstream gives the value itself.
    CHECK(RoutingPreference(ParseTrafficDistribution(WrittenTrafficDistribution(c.value))).size() >=
          c.preference.size());
  }
}

TEST_CASE("Port protocol from appProtocol, then the name's prefix", "[mesh][ports]") {
  struct Case {
    const char* name;
    const char* app_protocol;
    const char* protocol;
  };
  const std::vector<Case> cases = {
      {"http", "", "HTTP"},
      {"http-web", "", "HTTP"},
      {"HTTP2", "", "HTTP2"},
      {"https-admin", "", "HTTPS"},
      {"grpc", "", "GRPC"},
      {"grpc-web", "", "GRPC-Web"},
      {"grpc-web-x", "", "GRPC-Web"},
      {"tls", "", "TLS"},
      {"mongo-db", "", "Mongo"},
      {"redis", "", "Redis"},
      {"mysql", "", "MySQL"},
      {"web", "", "TCP"},
      {"", "", "TCP"},
      {"httpx", "", "TCP"},
      {"web", "http", "HTTP"},
      {"http", "tcp", "TCP"},
      {"x", "kubernetes.io/h2c", "HTTP2"},
      {"x", "kubernetes.io/ws", "HTTP"},
      {"x", "unknown.example/proto", "TCP"},
  };
  for (const Case& c : cases) {
    INFO(c.name << " / " << c.app_protocol);
    CHECK(IstioProtocol(c.name, c.app_protocol) == c.protocol);
  }
}

TEST_CASE("Locality strings", "[mesh][locality]") {
  CHECK(FormatLocality({"us-east-1", "us-east-1a", ""}) == "us-east-1/us-east-1a");
  CHECK(FormatLocality({"us-east-1", "us-east-1a", "rack1"}) == "us-east-1/us-east-1a/rack1");
  CHECK(FormatLocality({"us-east-1", "", "rack1"}) == "us-east-1");
  CHECK(FormatLocality({"", "us-east-1a", ""}).empty());
  CHECK(ParseLocality("us-east-1/us-east-1a/rack1") ==
        Locality{"us-east-1", "us-east-1a", "rack1"});
  CHECK(ParseLocality("us-east-1") == Locality{"us-east-1", "", ""});
  CHECK(ParseLocality("a/b/c/d") == Locality{"a", "b", "c/d"});
  CHECK(ParseLocality("") == Locality{});
}

}  // namespace
}  // namespace globalsvc::mesh
