#pragma once

// Thread roots and callback boundaries run their work through RunGuarded, so
// that no exception ends the process: a bad object or a bad answer costs one
// attempt, which is reported and counted, never a crash loop (the next
// leader would read the same input and crash again).
//
// The report goes to one process-wide handler: the controller counts it in
// globalsvc_internal_errors_total{where} and logs it. Without a handler the
// report is written to stderr.

#include <cstdint>
#include <exception>
#include <functional>
#include <string_view>
#include <utility>

namespace globalsvc {

using InternalErrorHandler = std::function<void(std::string_view where, std::string_view what)>;

// Replaces the handler and returns its id. Thread-safe.
std::uint64_t SetInternalErrorHandler(InternalErrorHandler handler);
// Restores stderr if the handler `id` is still the current one (a later
// owner's handler stays).
void ClearInternalErrorHandler(std::uint64_t id);

// Hands (where, what) to the handler; never throws.
void ReportInternalError(std::string_view where, std::string_view what) noexcept;

// Runs `body`; an exception is reported under `where` and swallowed. True
// when `body` returned normally.
template <typename Body>
bool RunGuarded(std::string_view where, Body&& body) noexcept {
  try {
    std::forward<Body>(body)();
    return true;
  } catch (const std::exception& e) {
    ReportInternalError(where, e.what());
  } catch (...) {
    ReportInternalError(where, "an exception that is not a std::exception");
  }
  return false;
}

}  // namespace globalsvc
