#include "cli/snapshot_files.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "lib/base/yaml_json.h"
#include "lib/mesh/cluster_builder.h"

namespace globalsvc::cli {
namespace fs = std::filesystem;
namespace {

std::vector<fs::path> SortedEntries(const fs::path& directory, std::error_code& error) {
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    entries.push_back(it->path());
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

void LoadFile(const fs::path& file, const std::string& cluster, mesh::ClusterBuilder& builder,
              mesh::Diagnostics& diagnostics) {
  auto problem = [&](std::string message) {
    diagnostics.push_back({mesh::Severity::kError,
                           mesh::DiagnosticCode::kInvalidObject,
                           {cluster, "File", "", file.filename().string()},
                           std::move(message)});
  };
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    problem("cannot be read");
    return;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto documents = ParseYamlDocuments(text.str());
  if (!documents.ok()) {
    problem(documents.error().message + "; the file is skipped");
    return;
  }
  for (const auto& document : *documents)
    builder.Add(document);
}

}  // namespace

bool IsObjectFile(const fs::path& path) {
  const std::string ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

Result<std::vector<mesh::ClusterState>> LoadSnapshot(const fs::path& directory,
                                                     const SnapshotOptions& options,
                                                     mesh::Diagnostics& diagnostics) {
  std::error_code error;
  if (!fs::is_directory(directory, error)) {
    return MakeError(ErrorCode::kInvalidInput, "snapshot folder " + directory.string() +
                                                   " does not exist or is not a folder");
  }
  const auto clusters = SortedEntries(directory, error);
  if (error) {
    return MakeError(ErrorCode::kInvalidInput,
                     "cannot list " + directory.string() + ": " + error.message());
  }
  std::vector<mesh::ClusterState> states;
  for (const fs::path& cluster_dir : clusters) {
    if (!fs::is_directory(cluster_dir, error)) continue;
    const std::string cluster = cluster_dir.filename().string();
    mesh::ClusterBuilder builder({cluster, options.control_plane_namespace, ""}, &diagnostics);
    for (const fs::path& file : SortedEntries(cluster_dir, error)) {
      if (fs::is_regular_file(file, error) && IsObjectFile(file)) {
        LoadFile(file, cluster, builder, diagnostics);
      }
    }
    states.push_back(std::move(builder).Build());
  }
  if (states.empty()) {
    return MakeError(ErrorCode::kInvalidInput,
                     directory.string() + " holds no cluster folders (one folder per cluster)");
  }
  return states;
}

}  // namespace globalsvc::cli
