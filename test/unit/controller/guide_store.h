#pragma once

// A MeshStore holding the guide's cluster1 and cluster2, each exporting
// httpbin/in-ambient, for the controller's unit tests.

#include <string>
#include <vector>

#include "controller/mesh_store.h"
#include "test/unit/mesh/test_world.h"

namespace globalsvc::controller::testing {

// cluster1 with one ready pod, cluster2 with `cluster2_pods`.
inline void FillGuide(MeshStore& store, int cluster2_pods) {
  const mesh::testing::GuideWorld world;
  for (const mesh::ClusterState* source : {&world.cluster1, &world.cluster2}) {
    store.Update(source->name(), [&](mesh::ClusterState& state) {
      state = *source;
      state.UpsertService(mesh::testing::GlobalService("httpbin", "in-ambient"));
      std::vector<mesh::Endpoint> endpoints;
      const int pods = source->name() == "cluster1" ? 1 : cluster2_pods;
      for (int i = 0; i < pods; ++i) {
        endpoints.push_back(mesh::testing::ReadyEndpoint(
            "10." + source->name().substr(7) + ".0." + std::to_string(i + 1), "node-1"));
      }
      state.UpsertEndpointSlice(mesh::testing::Slice("httpbin", "in-ambient", "s", endpoints));
    });
  }
}

}  // namespace globalsvc::controller::testing
