#include "cli/explain_report.h"

#include <utility>

#include "cli/commands.h"
#include "cli/live_objects.h"

namespace globalsvc::cli {

Result<ExplainReport> GatherExplainReport(const ObjectSources& sources,
                                          const failover::ExplainQuery& query, int requests,
                                          std::uint64_t seed) {
  auto objects = sources.live ? LoadLiveObjects(sources.kubeconfigs, sources.contexts,
                                                query.control_plane_namespace)
                              : LoadObjectFiles(sources.paths);
  if (!objects.ok()) return objects.error();
  InlineWorkloadEntryShape(*objects);
  auto input = failover::BuildExplainInput(*objects, query);
  if (!input.ok()) return input.error();

  ExplainReport report;
  report.host = query.host;
  report.input = std::move(*input);
  report.explanation = failover::Explain(report.input.simulation);
  report.sample = failover::SampleRequests(report.explanation, requests, seed);
  report.requests = requests;
  report.seed = seed;
  return report;
}

}  // namespace globalsvc::cli
