#include "lib/base/guard.h"

#include <cstdio>
#include <memory>
#include <mutex>

#include "lib/base/utf8.h"

namespace globalsvc {
namespace {

std::mutex& HandlerMutex() {
  static std::mutex mutex;
  return mutex;
}

// Shared so that a report in progress keeps its handler while another thread
// replaces it.
std::shared_ptr<const InternalErrorHandler>& Handler() {
  static std::shared_ptr<const InternalErrorHandler> handler;
  return handler;
}

std::uint64_t& HandlerId() {
  static std::uint64_t id = 0;
  return id;
}

}  // namespace

std::uint64_t SetInternalErrorHandler(InternalErrorHandler handler) {
  auto next = handler ? std::make_shared<const InternalErrorHandler>(std::move(handler)) : nullptr;
  std::lock_guard lock(HandlerMutex());
  Handler() = std::move(next);
  return ++HandlerId();
}

void ClearInternalErrorHandler(std::uint64_t id) {
  std::lock_guard lock(HandlerMutex());
  if (HandlerId() != id) return;
  Handler() = nullptr;
}

void ReportInternalError(std::string_view where, std::string_view what) noexcept {
  try {
    std::shared_ptr<const InternalErrorHandler> handler;
    {
      std::lock_guard lock(HandlerMutex());
      handler = Handler();
    }
    // An exception's text may quote input: keep it short and valid.
    const std::string text = ShortUtf8(what, 1024);
    if (handler) {
      (*handler)(where, text);
      return;
    }
    std::fprintf(stderr, "internal error where=%.*s error=%s\n", static_cast<int>(where.size()),
                 where.data(), text.c_str());
  } catch (...) {
    std::fputs("internal error: the report itself failed\n", stderr);
  }
}

}  // namespace globalsvc
