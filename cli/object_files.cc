// LoadObjectFiles (declared in commands.h): the -f arguments of explain and
// lint, read into objects that know their cluster and file.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/snapshot_files.h"
#include "lib/base/yaml_json.h"

namespace globalsvc::cli {
namespace fs = std::filesystem;
namespace {

Status LoadFile(const fs::path& file, const std::string& cluster,
                std::vector<failover::SourcedObject>& objects) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kInvalidInput, file.string() + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  auto documents = ParseYamlDocuments(text.str());
  if (!documents.ok()) {
    return MakeError(ErrorCode::kInvalidInput, file.string() + ": " + documents.error().message);
  }
  for (const auto& document : *documents) {
    failover::AppendObjects(document, cluster, file.string(), objects);
  }
  return Ok{};
}

// Sorted, so the objects' order (and so every output) does not depend on the
// file system's listing order.
std::vector<fs::path> SortedEntries(const fs::path& directory) {
  std::vector<fs::path> entries;
  std::error_code error;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    entries.push_back(it->path());
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

// A folder: each subfolder is a cluster named after it; files directly
// inside belong to no cluster. Other files than YAML and JSON are skipped.
Status LoadFolder(const fs::path& folder, std::vector<failover::SourcedObject>& objects) {
  std::error_code error;
  for (const fs::path& entry : SortedEntries(folder)) {
    if (fs::is_directory(entry, error)) {
      for (const fs::path& file : SortedEntries(entry)) {
        if (!fs::is_regular_file(file, error) || !IsObjectFile(file)) continue;
        auto status = LoadFile(file, entry.filename().string(), objects);
        if (!status.ok()) return status.error();
      }
    } else if (fs::is_regular_file(entry, error) && IsObjectFile(entry)) {
      if (auto status = LoadFile(entry, "", objects); !status.ok()) return status.error();
    }
  }
  return Ok{};
}

}  // namespace

Result<std::vector<failover::SourcedObject>> LoadObjectFiles(
    const std::vector<std::string>& paths) {
  std::vector<failover::SourcedObject> objects;
  for (const std::string& arg : paths) {
    std::string cluster;
    fs::path path = arg;
    // CLUSTER=FILE; a path with '/' before the '=' is just a path.
    if (const auto eq = arg.find('=');
        eq != std::string::npos && eq > 0 && arg.substr(0, eq).find('/') == std::string::npos) {
      cluster = arg.substr(0, eq);
      path = arg.substr(eq + 1);
    }
    std::error_code error;
    if (fs::is_regular_file(path, error)) {
      if (auto status = LoadFile(path, cluster, objects); !status.ok()) return status.error();
      continue;
    }
    if (!fs::is_directory(path, error) || !cluster.empty()) {
      return MakeError(ErrorCode::kInvalidInput, path.string() + " is not a readable " +
                                                     (cluster.empty() ? "file or folder" : "file"));
    }
    if (auto status = LoadFolder(path, objects); !status.ok()) return status.error();
  }
  return objects;
}

}  // namespace globalsvc::cli
