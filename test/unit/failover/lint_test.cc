// The failover linter, one table row per rule.

#include "lib/failover/lint.h"

#include <catch2/catch.hpp>

#include "lib/base/yaml_json.h"

namespace globalsvc::failover {

using mesh::kNetworkLabel;
using mesh::kRegionLabel;
using mesh::kSubzoneLabel;
using mesh::kZoneLabel;
using mesh::Severity;

namespace {

std::vector<SourcedObject> Objects(const std::string& yaml, const std::string& cluster = "") {
  std::vector<SourcedObject> objects;
  const auto documents = ParseYamlDocuments(yaml);
  REQUIRE(documents.ok());
  for (const auto& document : *documents) {
    AppendObjects(document, cluster, "test.yaml", objects);
  }
  return objects;
}

std::string Rule(const std::string& priority, bool outlier_detection,
                 const std::string& host = "in-ambient.httpbin.mesh.internal") {
  std::string yaml = R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: in-ambient-failover, namespace: httpbin}
spec:
  host: )" + host + R"(
  trafficPolicy:
)";
  if (!priority.empty()) {
    yaml +=
        "    loadBalancer:\n      localityLbSetting:\n        failoverPriority: " + priority + "\n";
  }
  if (outlier_detection) yaml += "    outlierDetection: {consecutive5xxErrors: 5}\n";
  return yaml;
}

constexpr const char* kEntry = R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: autogen.httpbin.in-ambient
  namespace: istio-system
  annotations: {networking.istio.io/traffic-distribution: PreferClose}
spec:
  hosts: [in-ambient.httpbin.mesh.internal]
  endpoints:
  - {address: 10.244.0.5, locality: us-east-1/us-east-1a, network: n1}
)";

struct Expected {
  Severity severity;
  LintCode code;
};

std::vector<Expected> Summary(const std::vector<LintFinding>& findings) {
  std::vector<Expected> out;
  for (const auto& f : findings)
    out.push_back({f.severity, f.code});
  return out;
}

bool operator==(const Expected& a, const Expected& b) {
  return a.severity == b.severity && a.code == b.code;
}

std::ostream& operator<<(std::ostream& out, const Expected& e) {
  return out << SeverityName(e.severity) << " " << LintCodeName(e.code);
}

// A Service echo/echo with this scope, takeover label (YAML, empty: none)
// and, or not, a selector.
std::string TakeoverService(const std::string& scope, const std::string& takeover, bool selector) {
  std::string labels = "solo.io/service-scope: " + scope;
  if (!takeover.empty()) labels += ", solo.io/service-takeover: " + takeover;
  return "apiVersion: v1\nkind: Service\nmetadata: {name: echo, namespace: echo, labels: {" +
         labels + "}}\nspec:\n  ports: [{name: http, port: 80}]\n" +
         (selector ? "  selector: {app: echo}\n" : "");
}

TEST_CASE("Lint rules", "[lint]") {
  using enum LintCode;
  const auto error = Severity::kError;
  const auto warning = Severity::kWarning;
  const std::string zone_region = "[topology.kubernetes.io/zone, topology.kubernetes.io/region]";
  const std::string region_zone = "[topology.kubernetes.io/region, topology.kubernetes.io/zone]";
  struct Case {
    const char* name;
    std::string yaml;
    std::vector<Expected> findings;
  };
  const std::vector<Case> cases = {
      {"the guide's [zone, region] rule",
       Rule(zone_region, true) + "---\n" + kEntry,
       {{error, kFailoverPriorityOrder}}},
      {"[region, zone] is accepted", Rule(region_zone, true) + "---\n" + kEntry, {}},
      {"failoverPriority without outlierDetection",
       Rule(region_zone, false) + "---\n" + kEntry,
       {{error, kMissingOutlierDetection}}},
      {"no locality setting and no outlierDetection",
       Rule("", false) + "---\n" + kEntry,
       {{warning, kMissingOutlierDetection}}},
      {"host without a ServiceEntry or global Service",
       Rule(region_zone, true),
       {{warning, kUnmatchedHost}}},
      {"host of a global Service",
       Rule(region_zone, true) + R"(---
apiVersion: v1
kind: Service
metadata: {name: in-ambient, namespace: httpbin, labels: {solo.io/service-scope: global}}
)",
       {}},
      {"host of a Service in a global namespace",
       Rule(region_zone, true) + R"(---
apiVersion: v1
kind: Namespace
metadata: {name: httpbin, labels: {solo.io/service-scope: global}}
---
apiVersion: v1
kind: Service
metadata: {name: in-ambient, namespace: httpbin}
)",
       {}},
      {"other hosts are not ours to check",
       Rule("", false, "reviews.default.svc.cluster.local"),
       {}},
      {"zone without region",
       Rule("[topology.kubernetes.io/zone]", true) + "---\n" + kEntry,
       {{warning, kFailoverPriorityIncomplete}}},
      {"a repeated label",
       Rule("[topology.kubernetes.io/region, topology.kubernetes.io/region]", true) + "---\n" +
           kEntry,
       {{warning, kFailoverPriorityDuplicate}}},
      {"subzone before zone",
       Rule("[topology.kubernetes.io/region, topology.istio.io/subzone, "
            "topology.kubernetes.io/zone]",
            true) +
           "---\n" + kEntry,
       {{error, kFailoverPriorityOrder}}},
      {"unknown traffic distribution on a Service",
       R"(apiVersion: v1
kind: Service
metadata:
  name: in-ambient
  namespace: httpbin
  annotations: {networking.istio.io/traffic-distribution: PreferNearby}
)",
       {{warning, kUnknownTrafficDistribution}}},
      {"known values in any case",
       R"(apiVersion: v1
kind: Service
metadata:
  name: in-ambient
  namespace: httpbin
  annotations: {networking.istio.io/traffic-distribution: preferclose}
)",
       {}},
      {"PreferNetwork on a Service: written as PreferClose, said as info",
       R"(apiVersion: v1
kind: Service
metadata:
  name: in-ambient
  namespace: httpbin
  annotations: {networking.istio.io/traffic-distribution: PreferNetwork}
)",
       {{Severity::kInfo, kUpstreamTrafficDistribution}}},
      {"PreferRegion on a Namespace: written as PreferClose, said as info",
       R"(apiVersion: v1
kind: Namespace
metadata:
  name: httpbin
  annotations: {networking.istio.io/traffic-distribution: PreferRegion}
)",
       {{Severity::kInfo, kUpstreamTrafficDistribution}}},
      {"PreferNetwork on a ServiceEntry: upstream gives no preference",
       R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: hand-made
  namespace: httpbin
  annotations: {networking.istio.io/traffic-distribution: PreferNetwork}
spec:
  hosts: [hand-made.httpbin.mesh.internal]
)",
       {{warning, kUpstreamTrafficDistribution}}},
      {"PreferNetwork on a ServiceEntry an earlier globalsvc wrote: rewritten, said as info",
       R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: autogen.httpbin.in-ambient
  namespace: istio-system
  labels: {app.kubernetes.io/managed-by: globalsvc}
  annotations: {networking.istio.io/traffic-distribution: PreferNetwork}
spec:
  hosts: [in-ambient.httpbin.mesh.internal]
)",
       {{Severity::kInfo, kUpstreamTrafficDistribution}}},
      {"ServiceEntry endpoints without locality",
       R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: autogen.httpbin.in-ambient, namespace: istio-system}
spec:
  hosts: [in-ambient.httpbin.mesh.internal]
  endpoints:
  - {address: 10.244.0.5, network: n1}
  - {network: n2, weight: 2, locality: us-west-2}
)",
       {{warning, kMissingLocality}}},
      {"gateway without locality",
       R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-eastwestgateway
  namespace: istio-system
  labels: {topology.istio.io/network: cluster1-network}
)",
       {{warning, kMissingLocality}}},
      {"other Deployments are not gateways",
       R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: in-ambient, namespace: httpbin}
)",
       {}},
      {"node without zone",
       R"(apiVersion: v1
kind: Node
metadata: {name: node-1, labels: {topology.kubernetes.io/region: us-east-1}}
)",
       {{warning, kMissingLocality}}},
      {"unreadable DestinationRule",
       R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: broken, namespace: httpbin}
spec: {trafficPolicy: {}}
)",
       {{error, kInvalidObject}}},
      {"takeover of a global Service with a selector",
       TakeoverService("global", "'true'", true),
       {}},
      {"takeover of a global Service without a selector",
       TakeoverService("global", "'true'", false),
       {{warning, kTakeoverNotHonoured}}},
      {"global-only without a selector",
       TakeoverService("global-only", "", false),
       {{warning, kTakeoverNotHonoured}}},
      {"an explicit false asks for nothing", TakeoverService("global-only", "'false'", false), {}},
      {"takeover of a Service that is not global",
       TakeoverService("cluster", "'true'", true),
       {{warning, kTakeoverNotHonoured}}},
      {"a takeover value that is neither true nor false",
       TakeoverService("global", "'yes'", true),
       {{warning, kTakeoverNotHonoured}}},
      {"the namespace asks for takeover of a selector-less global Service",
       "apiVersion: v1\nkind: Namespace\nmetadata: {name: echo, labels: "
       "{solo.io/service-takeover: 'true'}}\n---\n" +
           TakeoverService("global", "", false),
       {{warning, kTakeoverNotHonoured}}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto findings = Lint(Objects(c.yaml, "cluster1"), LintOptions{});
    CHECK(Summary(findings) == c.findings);
    for (const auto& finding : findings) {
      CHECK_FALSE(finding.message.empty());
      CHECK_FALSE(finding.fix.empty());
      CHECK(finding.object.cluster == "cluster1");
    }
  }
}

TEST_CASE("Lint explains the guide's order and suggests [region, zone]", "[lint]") {
  const auto findings =
      Lint(Objects(Rule("[topology.kubernetes.io/zone, topology.kubernetes.io/region]", true) +
                   "---\n" + kEntry),
           LintOptions{});
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].object.kind == "DestinationRule");
  CHECK(findings[0].object.name == "in-ambient-failover");
  CHECK_THAT(findings[0].message, Catch::Contains("both get priority 2 of 2"));
  CHECK_THAT(findings[0].fix,
             Catch::Contains("[topology.kubernetes.io/region, topology.kubernetes.io/zone]"));
  CHECK(HasLintErrors(findings));
}

TEST_CASE("CoarseToFine keeps other labels in place", "[lint]") {
  CHECK(CoarseToFine({kZoneLabel, kRegionLabel}) ==
        std::vector<std::string>{kRegionLabel, kZoneLabel});
  CHECK(CoarseToFine({kNetworkLabel, kSubzoneLabel, "tier", kZoneLabel, kRegionLabel}) ==
        std::vector<std::string>{kNetworkLabel, kRegionLabel, "tier", kZoneLabel, kSubzoneLabel});
}

}  // namespace
}  // namespace globalsvc::failover

namespace globalsvc::failover {
namespace {

constexpr const char* kSegmentCluster = R"(apiVersion: v1
kind: Namespace
metadata: {name: istio-system, labels: {admin.solo.io/segment: acme}}
---
apiVersion: globalsvc.io/v1alpha1
kind: Segment
metadata: {name: acme, namespace: istio-system}
spec: {domain: mesh.acme, aliases: [{pattern: "{service}.acme"}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: a, labels: {solo.io/service-scope: global}}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: b, labels: {solo.io/service-scope: global}}
spec: {ports: [{name: http, port: 80}]}
)";

std::vector<std::string> Codes(const std::vector<LintFinding>& findings) {
  std::vector<std::string> codes;
  for (const auto& finding : findings)
    codes.push_back(std::string(LintCodeName(finding.code)) + " " + finding.object.cluster + " " +
                    finding.object.namespace_name + "/" + finding.object.name);
  return codes;
}

TEST_CASE("Lint plans segments: alias collisions, segment scope without segment, refused remotes",
          "[lint][segments]") {
  // Two services named cart expand {service}.acme alike: b/cart loses it.
  auto findings = Lint(Objects(kSegmentCluster, "cluster1"), LintOptions{});
  CHECK(Codes(findings) == std::vector<std::string>{"AliasCollision cluster1 b/cart"});

  // cluster2 is in no segment and exports a segment-scoped service;
  // cluster3 names a segment no other cluster has a copy of.
  auto objects = Objects(kSegmentCluster, "cluster1");
  for (auto& more : Objects(R"(apiVersion: v1
kind: Service
metadata: {name: seg, namespace: app, labels: {solo.io/service-scope: segment}}
spec: {ports: [{name: http, port: 80}]}
)",
                            "cluster2"))
    objects.push_back(std::move(more));
  for (auto& more : Objects(R"(apiVersion: v1
kind: Namespace
metadata: {name: istio-system, labels: {admin.solo.io/segment: gamma}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app, labels: {solo.io/service-scope: global}}
spec: {ports: [{name: http, port: 80}]}
)",
                            "cluster3"))
    objects.push_back(std::move(more));
  findings = Lint(objects, LintOptions{});
  const auto codes = Codes(findings);
  CHECK(std::count(codes.begin(), codes.end(), "AliasCollision cluster1 b/cart") == 1);
  CHECK(std::count(codes.begin(), codes.end(), "SegmentScopeWithoutSegment cluster2 app/seg") == 1);
  // cluster3 names gamma, which neither cluster1 nor cluster2 holds.
  CHECK(std::count(codes.begin(), codes.end(), "SegmentRefused cluster3 app/web") == 2);
}

}  // namespace
}  // namespace globalsvc::failover
