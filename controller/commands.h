#pragma once

// The globalsvc subcommands. Each takes its arguments (after the subcommand
// name) and returns the process exit code: 0 ok, 1 findings or errors the
// user must act on, 2 usage errors.

#include <iosfwd>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/mesh/failover_input.h"

namespace globalsvc::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;

struct CommandIo {
  std::ostream& out;
  std::ostream& err;
};

int RunVersion(const std::vector<std::string>& args, CommandIo io);
int RunController(const std::vector<std::string>& args, CommandIo io);
int RunPlan(const std::vector<std::string>& args, CommandIo io);
int RunExplain(const std::vector<std::string>& args, CommandIo io);
int RunLint(const std::vector<std::string>& args, CommandIo io);

// Reads the -f arguments of explain and lint: a file, CLUSTER=FILE, or a folder
// whose subfolders are clusters (files directly inside belong to no cluster).
[[nodiscard]] Result<std::vector<mesh::SourcedObject>> LoadObjectFiles(
    const std::vector<std::string>& paths);

}  // namespace globalsvc::cli
