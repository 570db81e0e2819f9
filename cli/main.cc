// globalsvc: one binary, several subcommands.

#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

constexpr const char* kUsage =
    R"(globalsvc makes Kubernetes Services global across the clusters of a
multicluster Istio ambient mesh.

Usage: globalsvc <command> [flags]

Commands:
  controller  run the controller in this cluster
  plan        print the ServiceEntries the controller would write in a cluster
  explain     show where requests for a global host go, and after which failures
  lint        find failover configuration problems
  remote-secret
              print the Secret that connects the other clusters to this one
              (and create its reader identity)
  version     print version and build information

Run 'globalsvc <command> --help' for the flags of a command.
)";

int Run(std::vector<std::string> args) {
  using namespace globalsvc::cli;
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  CommandIo io{std::cout, std::cerr};
  if (command == "version") return RunVersion(args, io);
  if (command == "controller") return RunController(args, io);
  if (command == "plan") return RunPlan(args, io);
  if (command == "explain") return RunExplain(args, io);
  if (command == "lint") return RunLint(args, io);
  if (command == "remote-secret") return RunRemoteSecret(args, io);
  std::cerr << "globalsvc: unknown command '" << command << "'\n\n" << kUsage;
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // A defect must not end in std::terminate: say so, and exit like an error.
  try {
    return Run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& error) {
    std::cerr << "globalsvc: internal error: " << error.what() << "\n";
  } catch (...) {
    std::cerr << "globalsvc: internal error\n";
  }
  return globalsvc::cli::kExitFindings;
}
