#pragma once

// Rules for where things are: Nodes and east-west gateway Deployments
// without the region/zone labels that endpoint localities come from.

#include "lib/failover/failover_input.h"
#include "lib/failover/lint_rule.h"

namespace globalsvc::failover {

void LintNode(const SourcedObject& sourced, LintContext& context);

// Only a Deployment in the control-plane namespace with a network label is a
// gateway; any other Deployment is left alone.
void LintGateway(const SourcedObject& sourced, LintContext& context);

}  // namespace globalsvc::failover
