#pragma once

// Rules for the labels and annotations that globalsvc and istiod read on
// Services, Namespaces and ServiceEntries: takeover and traffic distribution.

#include <string>

#include "lib/failover/failover_input.h"
#include "lib/failover/lint_rule.h"

namespace globalsvc::failover {

// solo.io/service-takeover that is invalid, or that upstream istiod cannot
// honour, judged from one cluster's objects. `kind` is Service or Namespace.
void LintTakeover(const SourcedObject& sourced, const std::string& kind, LintContext& context);

// networking.istio.io/traffic-distribution values istiod does not know, or
// knows under another name.
void LintTrafficDistribution(const SourcedObject& sourced, LintContext& context);

}  // namespace globalsvc::failover
