#include "lib/kube/logger.h"

namespace globalsvc::kube {

const Logger& Log() {
  static const Logger logger = [] {
    if (auto existing = spdlog::get("kube")) return Logger(existing);
    auto created = spdlog::default_logger()->clone("kube");
    spdlog::register_logger(created);
    return Logger(created);
  }();
  return logger;
}

}  // namespace globalsvc::kube
