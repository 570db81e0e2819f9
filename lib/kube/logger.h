#pragma once

// The kube module's logger ("kube"): a message and fields (lib/base/log.h),
// never tokens, keys or kubeconfig contents.

#include "lib/base/log.h"

namespace globalsvc::kube {

// Returns the registered "kube" logger, creating it on first use with the
// default sink so the daemon's sink and format settings apply.
const Logger& Log();

}  // namespace globalsvc::kube
