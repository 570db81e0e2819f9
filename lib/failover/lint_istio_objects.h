#pragma once

// Rules for the Istio objects that decide failover: a DestinationRule's
// outlierDetection, host and failoverPriority, and a ServiceEntry's
// endpoint localities and traffic distribution.

#include "lib/failover/failover_input.h"
#include "lib/failover/lint_rule.h"

namespace globalsvc::failover {

void LintDestinationRule(const SourcedObject& sourced, LintContext& context);

void LintServiceEntry(const SourcedObject& sourced, LintContext& context);

}  // namespace globalsvc::failover
