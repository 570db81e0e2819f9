#pragma once

// A reproducible sample of N requests over an Explanation, counted like the
// guide's `curl ... | sort | uniq -c`: the same seed gives the same counts on
// every machine (own PRNG and integer picking; no std distributions).

#include <cstdint>
#include <string>
#include <vector>

#include "lib/failover/failover_simulator.h"

namespace globalsvc::failover {

struct SampleCount {
  std::string endpoint;  // the address that answered, or gateway(<cluster>)
  std::string cluster;
  bool via_gateway = false;
  int count = 0;
};

// Sorted by endpoint then cluster, as `sort` would order the lines. Empty when
// no endpoint is left.
[[nodiscard]] std::vector<SampleCount> SampleRequests(const Explanation& explanation, int requests,
                                                      std::uint64_t seed);

}  // namespace globalsvc::failover
