#pragma once

// The planner's parts (plan_*.h) share these: a cluster that exports the
// service being planned, and how they report on its objects.

#include <string>

#include "lib/mesh/cluster_state.h"
#include "lib/mesh/diagnostic.h"
#include "lib/mesh/model.h"
#include "lib/mesh/scope.h"

namespace globalsvc::mesh {

struct Contributor {
  const ClusterState* cluster;
  const Service* service;
  ScopeValue scope = ScopeValue::kGlobal;
};

inline ObjectRef ServiceRef(const ClusterState& cluster, const Service& service) {
  return {cluster.name(), "Service", service.namespace_name, service.name};
}

inline void Report(Diagnostics& diagnostics, Severity severity, DiagnosticCode code,
                   ObjectRef object, std::string message) {
  diagnostics.push_back({severity, code, std::move(object), std::move(message)});
}

}  // namespace globalsvc::mesh
