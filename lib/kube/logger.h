#pragma once

// The kube module's spdlog logger ("kube"); messages are key=value and never
// carry tokens, keys or kubeconfig contents.

#include <spdlog/spdlog.h>

#include <memory>

namespace globalsvc::kube {

// Returns the registered "kube" logger, creating it on first use with the
// default sink so the daemon's sink and format settings apply.
spdlog::logger& Log();

}  // namespace globalsvc::kube
