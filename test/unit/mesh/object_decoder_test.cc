#include "lib/mesh/object_decoder.h"

#include <catch2/catch.hpp>

#include "lib/base/yaml_json.h"
#include "lib/mesh/cluster_builder.h"

namespace globalsvc::mesh {
namespace {

nlohmann::json Yaml(const char* text) {
  auto docs = ParseYamlDocuments(text);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  return (*docs)[0];
}

TEST_CASE("Decode a Service", "[mesh][decode]") {
  Diagnostics diagnostics;
  auto service = DecodeService(Yaml(R"(
kind: Service
metadata:
  name: in-ambient
  namespace: httpbin
  creationTimestamp: "2025-03-06T17:00:05Z"
  labels: {solo.io/service-scope: global, istio.io/use-waypoint: wp,
           istio.io/use-waypoint-namespace: waypoints, solo.io/service-takeover: "true"}
  annotations: {networking.istio.io/traffic-distribution: PreferClose}
spec:
  trafficDistribution: PreferSameZone
  selector: {version: v1, app: httpbin}
  ports:
  - {name: http, port: 8000, targetPort: 8080}
  - {name: dns, port: 53, protocol: UDP, targetPort: dns}
  - {name: grpc, port: 9000, appProtocol: grpc}
)"),
                               {"c1", &diagnostics});
  REQUIRE(service);
  CHECK(diagnostics.empty());
  CHECK(service->name == "in-ambient");
  CHECK(service->namespace_name == "httpbin");
  CHECK(service->scope_label == "global");
  CHECK(service->traffic_distribution_annotation == "PreferClose");
  CHECK(service->traffic_distribution_spec == "PreferSameZone");
  CHECK(service->waypoint_label == "wp");
  CHECK(service->waypoint_namespace_label == "waypoints");
  CHECK(service->creation_timestamp == 1741280405);
  REQUIRE(service->ports.size() == 3);
  CHECK(service->ports[0].protocol == "TCP");
  CHECK(service->ports[0].target_port == 8080);
  CHECK(service->ports[1].protocol == "UDP");
  CHECK(service->ports[1].target_port == 0);  // named target port
  CHECK(service->ports[1].target_port_name == "dns");
  CHECK(service->ports[2].app_protocol == "grpc");
  CHECK(service->takeover_label == "true");
  CHECK(service->selector ==
        std::vector<std::pair<std::string, std::string>>{{"app", "httpbin"}, {"version", "v1"}});
}

TEST_CASE("A Service selector that is not a map of strings is dropped whole", "[mesh][decode]") {
  Diagnostics diagnostics;
  auto odd = DecodeService(Yaml(R"(
kind: Service
metadata: {name: a, namespace: b}
spec:
  selector: {app: a, replicas: 3}
)"),
                           {"c1", &diagnostics});
  REQUIRE(odd);
  CHECK(odd->selector.empty());  // a partial selector would select more
  REQUIRE(diagnostics.size() == 1);
  CHECK(diagnostics[0].message == "spec.selector[replicas] is not a string; ignored");
  diagnostics.clear();
  auto listed = DecodeService(Yaml("kind: Service\nmetadata: {name: a, namespace: b}\n"
                                   "spec: {selector: [a]}\n"),
                              {"c1", &diagnostics});
  REQUIRE(listed);
  CHECK(listed->selector.empty());
  CHECK(diagnostics.size() == 1);
}

TEST_CASE("A Service with bad fields keeps its good ones", "[mesh][decode]") {
  Diagnostics diagnostics;
  auto service = DecodeService(Yaml(R"(
kind: Service
metadata:
  name: svc
  namespace: ns
  creationTimestamp: yesterday
  labels: {solo.io/service-scope: 7}
spec:
  ports:
  - {name: ok, port: 80}
  - {name: big, port: 70000}
  - {name: text, port: "eighty"}
  - {name: none}
  - "not an object"
)"),
                               {"c1", &diagnostics});
  REQUIRE(service);
  REQUIRE(service->ports.size() == 1);
  CHECK(service->ports[0].name == "ok");
  CHECK_FALSE(service->scope_label.has_value());
  CHECK(diagnostics.size() == 6);
  for (const auto& d : diagnostics) {
    CHECK(d.code == DiagnosticCode::kInvalidObject);
    CHECK(d.object.cluster == "c1");
    CHECK(d.object.name == "svc");
  }
}

TEST_CASE("Objects without a name are rejected", "[mesh][decode]") {
  Diagnostics diagnostics;
  CHECK_FALSE(
      DecodeService(Yaml("kind: Service\nmetadata: {namespace: x}\n"), {"c", &diagnostics}));
  CHECK_FALSE(DecodeNode(Yaml("kind: Node\nmetadata: 5\n"), {"c", &diagnostics}));
  CHECK_FALSE(DecodeNamespace(Yaml("kind: Namespace\n"), {"c", &diagnostics}));
  CHECK(diagnostics.size() == 3);
}

TEST_CASE("A Service, EndpointSlice or Pod without a namespace is ignored, and said so",
          "[mesh][decode]") {
  // Found by the planner fuzz target: such a Service planned as
  // "autogen..api" with the host "api..mesh.internal".
  Diagnostics diagnostics;
  CHECK_FALSE(DecodeService(Yaml("kind: Service\nmetadata: {name: api, labels: "
                                 "{solo.io/service-scope: global}}\nspec: {ports: [{port: 80}]}\n"),
                            {"c", &diagnostics}));
  CHECK_FALSE(DecodeEndpointSlice(
      Yaml("kind: EndpointSlice\nmetadata: {name: s, labels: {kubernetes.io/service-name: api}}\n"),
      {"c", &diagnostics}));
  CHECK_FALSE(DecodePod(Yaml("kind: Pod\nmetadata: {name: p}\n"), {"c", &diagnostics}));
  REQUIRE(diagnostics.size() == 3);
  for (const auto& d : diagnostics)
    CHECK(d.message == "object has no metadata.namespace; ignored");
}

TEST_CASE("Decode a Namespace: scope, network and traffic distribution", "[mesh][decode]") {
  Diagnostics diagnostics;
  auto ns = DecodeNamespace(
      Yaml("kind: Namespace\nmetadata: {name: ns, labels: {solo.io/service-scope: global, "
           "topology.istio.io/network: n1, istio.io/use-waypoint: httpbin-waypoint, "
           "solo.io/service-takeover: 'false'}, annotations: "
           "{networking.istio.io/traffic-distribution: PreferClose}}\n"),
      {"c", &diagnostics});
  REQUIRE(ns);
  CHECK(ns->scope_label == "global");
  CHECK(ns->network_label == "n1");
  CHECK(ns->traffic_distribution_annotation == "PreferClose");
  CHECK(ns->waypoint_label == "httpbin-waypoint");
  CHECK_FALSE(ns->waypoint_namespace_label.has_value());
  CHECK(ns->takeover_label == "false");
  auto bare = DecodeNamespace(Yaml("kind: Namespace\nmetadata: {name: ns}\n"), {"c", &diagnostics});
  REQUIRE(bare);
  CHECK_FALSE(bare->traffic_distribution_annotation.has_value());
  CHECK(diagnostics.empty());

  // An annotation of the wrong type is reported and ignored, never a guess.
  auto odd = DecodeNamespace(Yaml("kind: Namespace\nmetadata: {name: ns, annotations: "
                                  "{networking.istio.io/traffic-distribution: [a, b]}}\n"),
                             {"c", &diagnostics});
  REQUIRE(odd);
  CHECK_FALSE(odd->traffic_distribution_annotation.has_value());
  CHECK(diagnostics.size() == 1);
}

TEST_CASE("Decode an EndpointSlice", "[mesh][decode]") {
  Diagnostics diagnostics;
  auto slice = DecodeEndpointSlice(Yaml(R"(
kind: EndpointSlice
addressType: IPv6
metadata:
  name: svc-abc
  namespace: ns
  labels: {kubernetes.io/service-name: svc}
ports:
- {name: http, port: 8080, protocol: TCP}
endpoints:
- addresses: [fd00::1, fd00::2]
  conditions: {ready: false, serving: true, terminating: true}
  nodeName: node-1
  zone: z1
- addresses: [fd00::3]
- addresses: []
- conditions: {ready: true}
- addresses: [fd00::4]
  conditions: {ready: "yes"}
)"),
                                   {"c1", &diagnostics});
  REQUIRE(slice);
  CHECK(slice->service_name == "svc");
  CHECK(slice->address_type == AddressType::kIPv6);
  REQUIRE(slice->ports.size() == 1);
  REQUIRE(slice->endpoints.size() == 3);
  CHECK(slice->endpoints[0].address == "fd00::1");
  CHECK(slice->endpoints[0].conditions.ready == false);
  CHECK(slice->endpoints[0].conditions.serving == true);
  CHECK(slice->endpoints[0].conditions.terminating == true);
  CHECK(slice->endpoints[0].node_name == "node-1");
  CHECK(slice->endpoints[0].zone == "z1");
  CHECK_FALSE(slice->endpoints[1].conditions.ready.has_value());
  CHECK_FALSE(slice->endpoints[2].conditions.ready.has_value());  // bad value dropped
  CHECK(diagnostics.size() == 3);
}

TEST_CASE("EndpointSlices without a service or with a bad address type are skipped",
          "[mesh][decode]") {
  Diagnostics diagnostics;
  CHECK_FALSE(DecodeEndpointSlice(
      Yaml("kind: EndpointSlice\naddressType: IPv4\nmetadata: {name: x, namespace: n}\n"),
      {"c", &diagnostics}));
  CHECK(diagnostics.empty());  // unmanaged slices are normal
  CHECK_FALSE(DecodeEndpointSlice(Yaml(R"(
kind: EndpointSlice
addressType: Carrier-Pigeon
metadata: {name: x, namespace: n, labels: {kubernetes.io/service-name: s}}
)"),
                                  {"c", &diagnostics}));
  CHECK(diagnostics.size() == 1);
}

TEST_CASE("Gateways: labels on the Deployment or its pod template", "[mesh][decode]") {
  Diagnostics diagnostics;
  auto on_deployment = DecodeGateway(Yaml(R"(
kind: Deployment
metadata:
  name: istio-eastwestgateway
  namespace: istio-system
  labels:
    topology.istio.io/network: n1
    topology.kubernetes.io/region: r1
    topology.kubernetes.io/zone: z1
)"),
                                     {"c", &diagnostics});
  REQUIRE(on_deployment);
  CHECK(on_deployment->network == "n1");
  CHECK(on_deployment->region == "r1");
  CHECK(on_deployment->zone == "z1");
  auto on_template = DecodeGateway(Yaml(R"(
kind: Deployment
metadata: {name: gw, namespace: istio-system, labels: {topology.kubernetes.io/region: r-dep}}
spec:
  template:
    metadata:
      labels: {topology.istio.io/network: n2, topology.kubernetes.io/region: r-pod, topology.kubernetes.io/zone: z2}
)"),
                                   {"c", &diagnostics});
  REQUIRE(on_template);
  CHECK(on_template->network == "n2");
  CHECK(on_template->region == "r-dep");
  CHECK(on_template->zone == "z2");
  CHECK_FALSE(
      DecodeGateway(Yaml("kind: Deployment\nmetadata: {name: app, namespace: istio-system}\n"),
                    {"c", &diagnostics}));
  CHECK(diagnostics.empty());
}

TEST_CASE("ClusterBuilder expands Lists and takes the network from the namespace",
          "[mesh][decode]") {
  Diagnostics diagnostics;
  ClusterBuilder builder({"c1", "istio-system", ""}, &diagnostics);
  builder.Add(Yaml(R"(
kind: List
items:
- kind: Namespace
  metadata: {name: istio-system, labels: {topology.istio.io/network: net-1}}
- kind: Node
  metadata: {name: n1, labels: {topology.kubernetes.io/region: r, topology.kubernetes.io/zone: z}}
- kind: Deployment
  metadata: {name: gw, namespace: istio-system, labels: {topology.istio.io/network: net-1}}
- kind: Deployment
  metadata: {name: gw-elsewhere, namespace: default, labels: {topology.istio.io/network: net-1}}
- kind: ConfigMap
  metadata: {name: ignored}
)"));
  builder.Add(Yaml(R"(
kind: ServiceList
items:
- metadata: {name: s, namespace: ns}
)"));
  builder.Add(nlohmann::json("a string document"));
  ClusterState state = std::move(builder).Build();
  CHECK(state.name() == "c1");
  CHECK(state.network() == "net-1");
  CHECK(state.FindNode("n1") != nullptr);
  CHECK(state.gateways().size() == 1);
  CHECK(state.FindService("ns/s") != nullptr);
  CHECK(diagnostics.size() == 1);
}

TEST_CASE("An EndpointSlice endpoint names its Pod; other targets name none", "[mesh][decode]") {
  Diagnostics diagnostics;
  auto slice = DecodeEndpointSlice(Yaml(R"(
kind: EndpointSlice
metadata: {name: s, namespace: ns, labels: {kubernetes.io/service-name: svc}}
addressType: IPv4
endpoints:
- addresses: [10.0.0.1]
  targetRef: {kind: Pod, name: svc-abc, namespace: ns}
- addresses: [10.0.0.2]
  targetRef: {kind: Node, name: node-1}
- addresses: [10.0.0.3]
  targetRef: {kind: Pod, name: 7}
)"),
                                   {"c1", &diagnostics});
  REQUIRE(slice);
  REQUIRE(slice->endpoints.size() == 3);
  CHECK(slice->endpoints[0].pod_name == "svc-abc");
  CHECK(slice->endpoints[1].pod_name.empty());
  CHECK(slice->endpoints[2].pod_name.empty());
  REQUIRE(diagnostics.size() == 1);  // the name that is not a string
  CHECK(diagnostics[0].message.find("targetRef.name") != std::string::npos);
}

TEST_CASE("Decode a Pod's service account", "[mesh][decode]") {
  Diagnostics diagnostics;
  auto pod = DecodePod(Yaml(R"(
kind: Pod
metadata: {name: p, namespace: ns}
spec: {serviceAccountName: reviews}
)"),
                       {"c1", &diagnostics});
  REQUIRE(pod);
  CHECK(*pod == Pod{"ns", "p", "reviews"});
  // A Pod that names none runs as "default", as the API server sets it.
  auto bare = DecodePod(Yaml("kind: Pod\nmetadata: {name: q, namespace: ns}\n"), {"c1", nullptr});
  REQUIRE(bare);
  CHECK(bare->service_account == "default");
  CHECK_FALSE(DecodePod(Yaml("kind: Pod\nmetadata: {namespace: ns}\n"), {"c1", nullptr}));
}

TEST_CASE("An east-west gateway's address comes from its labelled Service", "[mesh][decode]") {
  const DecodeContext context{"c1", nullptr};
  auto balanced = DecodeGatewayAddress(Yaml(R"(
kind: Service
metadata: {name: ew, namespace: istio-system, labels: {topology.istio.io/network: n2}}
spec: {externalIPs: [198.51.100.9]}
status: {loadBalancer: {ingress: [{ip: 203.0.113.20}]}}
)"),
                                       context);
  REQUIRE(balanced);
  CHECK(*balanced == GatewayAddress{"ew", "203.0.113.20"});
  auto named = DecodeGatewayAddress(Yaml(R"(
kind: Service
metadata: {name: ew, labels: {topology.istio.io/network: n2}}
status: {loadBalancer: {ingress: [{hostname: ew.elb.example.com}]}}
)"),
                                    context);
  REQUIRE(named);
  CHECK(named->address == "ew.elb.example.com");
  auto external = DecodeGatewayAddress(Yaml(R"(
kind: Service
metadata: {name: ew, labels: {topology.istio.io/network: n2}}
spec: {externalIPs: [198.51.100.9]}
status: {loadBalancer: {}}
)"),
                                       context);
  REQUIRE(external);
  CHECK(external->address == "198.51.100.9");
  // Without the network label it is not a gateway; without an address it
  // cannot be reached.
  CHECK_FALSE(DecodeGatewayAddress(Yaml(R"(
kind: Service
metadata: {name: web}
status: {loadBalancer: {ingress: [{ip: 203.0.113.1}]}}
)"),
                                   context));
  CHECK_FALSE(DecodeGatewayAddress(
      Yaml("kind: Service\nmetadata: {name: ew, labels: {topology.istio.io/network: n2}}\n"),
      context));
}

TEST_CASE("The snapshot builder reads Pods and gateway Services of the control plane",
          "[mesh][decode]") {
  ClusterBuilder builder({"c1", "istio-system", ""}, nullptr);
  builder.Add(Yaml(R"(
kind: List
items:
- kind: Pod
  metadata: {name: p, namespace: ns}
  spec: {serviceAccountName: reviews}
- kind: Service
  metadata: {name: ew, namespace: istio-system, labels: {topology.istio.io/network: n1}}
  status: {loadBalancer: {ingress: [{ip: 203.0.113.20}]}}
- kind: Service
  metadata: {name: ew2, namespace: elsewhere, labels: {topology.istio.io/network: n1}}
  status: {loadBalancer: {ingress: [{ip: 203.0.113.21}]}}
)"));
  ClusterState state = std::move(builder).Build();
  CHECK(state.ServiceAccountOf("ns", "p") == "reviews");
  CHECK(state.ServiceAccountOf("ns", "missing").empty());
  CHECK(state.AddressOfGateway("ew") == "203.0.113.20");
  CHECK(state.AddressOfGateway("ew2").empty());
}

}  // namespace
}  // namespace globalsvc::mesh
