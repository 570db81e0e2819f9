#pragma once

// The world shared by the tests of the Istio objects a planned ServiceEntry
// renders to.

#include <catch2/catch.hpp>
#include <string>

#include "lib/mesh/planner.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::mesh {

// The guide's service with its pods known: two in each cluster, service
// account in-ambient here and in-ambient-west in cluster2.
struct GuideWithPods : testing::GuideWorld {
  GuideWithPods() {
    for (ClusterState* cluster : {&cluster1, &cluster2}) {
      cluster->UpsertNamespace(
          {"httpbin", std::nullopt, "", std::nullopt, std::nullopt, std::nullopt});
      cluster->UpsertService(testing::GlobalService("httpbin", "in-ambient"));
    }
    Endpoint a = testing::ReadyEndpoint("10.244.0.5", "node-1");
    a.pod_name = "in-ambient-a";
    Endpoint b = testing::ReadyEndpoint("10.244.1.8", "node-2");
    b.pod_name = "in-ambient-b";
    cluster1.UpsertEndpointSlice(testing::Slice("httpbin", "in-ambient", "s1", {a, b}));
    cluster1.UpsertPod({"httpbin", "in-ambient-a", "in-ambient"});
    cluster1.UpsertPod({"httpbin", "in-ambient-b", "in-ambient"});
    Endpoint c = testing::ReadyEndpoint("10.245.0.7", "node-1");
    c.pod_name = "in-ambient-c";
    Endpoint d = testing::ReadyEndpoint("10.245.1.4", "node-2");
    d.pod_name = "in-ambient-d";
    cluster2.UpsertEndpointSlice(testing::Slice("httpbin", "in-ambient", "s2", {c, d}));
    cluster2.UpsertPod({"httpbin", "in-ambient-c", "in-ambient-west"});
    cluster2.UpsertPod({"httpbin", "in-ambient-d", "in-ambient-west"});
    cluster2.UpsertGatewayAddress({"istio-eastwestgateway", "203.0.113.20"});
  }

  ServiceEntry Planned(const std::string& target = "cluster1") {
    Diagnostics diagnostics;
    auto entry = testing::PlanFor(clusters(), target, "httpbin", "in-ambient", diagnostics);
    REQUIRE(entry);
    return *entry;
  }
};

}  // namespace globalsvc::mesh
