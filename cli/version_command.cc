#include <ostream>

#include "cli/build_info.h"
#include "cli/commands.h"

namespace globalsvc::cli {

int RunVersion(const std::vector<std::string>& args, CommandIo io) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    io.out << "Usage: globalsvc version\n\nPrints the version and build information.\n";
    return kExitOk;
  }
  if (!args.empty()) {
    io.err << "globalsvc version: takes no arguments\n";
    return kExitUsage;
  }
  io.out << "globalsvc " << kVersion << "\n"
         << "  commit:   " << kGitCommit << "\n"
         << "  compiler: " << kCompiler << "\n"
         << "  build:    " << kBuildType << "\n";
  return kExitOk;
}

}  // namespace globalsvc::cli
