#pragma once

// Catch assertions on a Status or Result: the error's message, when there is
// one, is printed with the failure.

#include <catch2/catch.hpp>

#define GLOBALSVC_STATUS_ASSERT(assertion, expr)               \
  do {                                                         \
    const auto& status_ok_ = (expr);                           \
    INFO((status_ok_.ok() ? "" : status_ok_.error().message)); \
    assertion(status_ok_.ok());                                \
  } while (false)

#define REQUIRE_STATUS_OK(expr) GLOBALSVC_STATUS_ASSERT(REQUIRE, expr)
#define CHECK_STATUS_OK(expr) GLOBALSVC_STATUS_ASSERT(CHECK, expr)
