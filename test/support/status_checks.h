#pragma once

// Catch assertions on a Status or Result, or a command's result: the error's
// message, when there is one, is printed with the failure.

#include <catch2/catch.hpp>

#define GLOBALSVC_STATUS_ASSERT(assertion, expr)               \
  do {                                                         \
    const auto& status_ok_ = (expr);                           \
    INFO((status_ok_.ok() ? "" : status_ok_.error().message)); \
    assertion(status_ok_.ok());                                \
  } while (false)

#define REQUIRE_STATUS_OK(expr) GLOBALSVC_STATUS_ASSERT(REQUIRE, expr)
#define CHECK_STATUS_OK(expr) GLOBALSVC_STATUS_ASSERT(CHECK, expr)

// The same for a command (kubectl): its exit code and stderr are printed.
#define GLOBALSVC_COMMAND_ASSERT(assertion, expr)                                               \
  do {                                                                                          \
    const auto& command_ok_ = (expr);                                                           \
    INFO("exit code " << command_ok_.exit_code << (command_ok_.timed_out ? " (timed out)" : "") \
                      << ": " << command_ok_.err);                                              \
    assertion(command_ok_.ok());                                                                \
  } while (false)

#define REQUIRE_COMMAND_OK(expr) GLOBALSVC_COMMAND_ASSERT(REQUIRE, expr)
