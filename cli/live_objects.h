#pragma once

// Reads what `explain` and `lint` need from live clusters instead of files:
// for each kubeconfig context (one cluster each, named after the context) the
// ServiceEntries and east-west gateway Deployments of the control-plane
// namespace, DestinationRules and Services of every namespace, and Nodes.
// globalsvc's ServiceEntries of the WorkloadEntry shape (in the Services'
// namespaces) are read with their WorkloadEntries; InlineWorkloadEntryShape
// then joins them.

#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/failover/failover_input.h"

namespace globalsvc::cli {

// Replaces globalsvc's ServiceEntries of the WorkloadEntry shape and their
// WorkloadEntries among `objects`, cluster by cluster, by the inline
// ServiceEntries they amount to (in the same namespace): what explain and
// lint read, from files (`kubectl get -o yaml` dumps) or live.
void InlineWorkloadEntryShape(std::vector<failover::SourcedObject>& objects);

// `kubeconfigs`: files, or ':'-separated lists of files, merged as kubectl
// does (empty: $KUBECONFIG or ~/.kube/config). `contexts`: one per cluster
// (empty: the current context only).
[[nodiscard]] Result<std::vector<failover::SourcedObject>> LoadLiveObjects(
    const std::vector<std::string>& kubeconfigs, const std::vector<std::string>& contexts,
    const std::string& control_plane_namespace);

// Where a pod runs: the cluster of `context` and its node's region, zone and
// subzone labels. `pod` is "<namespace>/<name>".
[[nodiscard]] Result<failover::ClientLocation> LocatePod(
    const std::vector<std::string>& kubeconfigs, const std::string& context,
    const std::string& pod);

}  // namespace globalsvc::cli
