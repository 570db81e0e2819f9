#pragma once

// Reads a multi-cluster snapshot from disk: a folder with one subfolder per
// cluster (named after it), each holding that cluster's objects as
// `kubectl get ... -o yaml` prints them (*.yaml, *.yml or *.json; Lists or
// multi-document YAML).

#include <filesystem>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/mesh/cluster_state.h"
#include "lib/mesh/diagnostic.h"
#include "lib/mesh/model.h"

namespace globalsvc::cli {

struct SnapshotOptions {
  std::string control_plane_namespace = mesh::kDefaultControlPlaneNamespace;
};

// A file of objects by its extension: .yaml, .yml or .json (what plan,
// explain and lint read from a folder).
[[nodiscard]] bool IsObjectFile(const std::filesystem::path& path);

// Fails only when the folder itself cannot be read; a bad file or object gives
// diagnostics and the rest is still loaded. Clusters are sorted by name.
[[nodiscard]] Result<std::vector<mesh::ClusterState>> LoadSnapshot(
    const std::filesystem::path& directory, const SnapshotOptions& options,
    mesh::Diagnostics& diagnostics);

}  // namespace globalsvc::cli
