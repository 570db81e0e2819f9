#pragma once

// Failures from their specs, and the guide's client and endpoints as a
// simulation input: shared by the simulator's tests.

#include <initializer_list>
#include <string>
#include <vector>

#include "lib/failover/failover_simulator.h"
#include "test/unit/failover/failover_test_topology.h"

namespace globalsvc::failover {

using Groups = std::vector<std::vector<std::string>>;

inline std::vector<Failure> Down(std::initializer_list<const char*> specs) {
  std::vector<Failure> failures;
  for (const char* spec : specs)
    failures.push_back(ParseFailure(spec).value());
  return failures;
}

inline SimulationInput GuideInput(std::string distribution, DataPlane plane = DataPlane::kZtunnel) {
  SimulationInput input;
  input.client = testing::GuideClientInCluster1();
  input.endpoints = testing::GuideEndpointsSeenFromCluster1();
  input.traffic_distribution = std::move(distribution);
  input.data_plane = plane;
  return input;
}

}  // namespace globalsvc::failover
