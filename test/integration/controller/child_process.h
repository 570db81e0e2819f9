#pragma once

// A test's child process (a controller, the hostile proxy): stdin from
// /dev/null, stdout and stderr into a log file, killed with the thread that
// started it (PR_SET_PDEATHSIG), so nothing outlives a crashed test.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "lib/base/result.h"

namespace globalsvc::controller::testbed {

// Starts `args` (args[0] is the binary's path); returns the child's pid.
Result<pid_t> SpawnLogged(std::vector<std::string> args, const std::filesystem::path& log_path);

}  // namespace globalsvc::controller::testbed
