#pragma once

// explain's data gathering: the objects from files or live clusters, and what
// the failover simulator makes of them. Rendering is explain_output.h's job.

#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/failover/failover_input.h"
#include "lib/failover/failover_sample.h"
#include "lib/failover/failover_simulator.h"

namespace globalsvc::cli {

// Where explain reads the objects: live clusters, or the -f files.
struct ObjectSources {
  bool live = false;
  std::vector<std::string> paths;        // -f and --filename, when not live
  std::vector<std::string> kubeconfigs;  // --kubeconfig, when live
  std::vector<std::string> contexts;     // --context, when live: one per cluster
};

// Everything explain prints, computed before any of it is printed.
struct ExplainReport {
  std::string host;
  failover::ExplainInput input;
  failover::Explanation explanation;
  std::vector<failover::SampleCount> sample;  // of `requests` requests, as uniq -c counts
  int requests = 0;
  std::uint64_t seed = 1;
};

// Reads the objects, ranks the endpoints of `query.host` as seen from
// `query.from` and samples `requests` requests with `seed`. Errors are the
// ones the user must act on: unreadable sources, or objects that cannot answer.
[[nodiscard]] Result<ExplainReport> GatherExplainReport(const ObjectSources& sources,
                                                        const failover::ExplainQuery& query,
                                                        int requests, std::uint64_t seed);

}  // namespace globalsvc::cli
