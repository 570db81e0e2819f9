#pragma once

// The globalsvc subcommands. Each takes its arguments (after the subcommand
// name) and returns the process exit code: 0 ok, 1 findings or errors the
// user must act on, 2 usage errors.

#include <iosfwd>
#include <string>
#include <vector>

namespace globalsvc::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;

struct CommandIo {
  std::ostream& out;
  std::ostream& err;
};

int RunVersion(const std::vector<std::string>& args, CommandIo io);
int RunPlan(const std::vector<std::string>& args, CommandIo io);

}  // namespace globalsvc::cli
