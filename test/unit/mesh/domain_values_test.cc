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

TEST_CASE("Traffic distribution values and ztunnel's routing preference",
          "[mesh][traffic-distribution]") {
  using S = LocalityScope;
  struct Case {
    const char* value;
    std::vector<LocalityScope> preference;
  };
  const std::vector<Case> cases = {
      {"PreferNetwork", {S::kNetwork}},
      {"prefernetwork", {S::kNetwork}},
      {"PreferRegion", {S::kNetwork, S::kRegion}},
      {"PreferClose", {S::kNetwork, S::kRegion, S::kZone}},
      {"PREFERSAMEZONE", {S::kNetwork, S::kRegion, S::kZone}},
      {"PreferSameNode", {S::kNetwork, S::kRegion, S::kZone, S::kSubzone, S::kNode}},
      {"Nearest", {}},
      {"", {}},
  };
  for (const Case& c : cases) {
    INFO(c.value);
    CHECK(RoutingPreference(ParseTrafficDistribution(c.value)) == c.preference);
    CHECK(IsKnownTrafficDistribution(c.value) == !c.preference.empty());
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
