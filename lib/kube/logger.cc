#include "lib/kube/logger.h"

namespace globalsvc::kube {

spdlog::logger& Log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("kube")) return existing;
    auto created = spdlog::default_logger()->clone("kube");
    spdlog::register_logger(created);
    return created;
  }();
  return *logger;
}

}  // namespace globalsvc::kube
