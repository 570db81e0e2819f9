#pragma once

// Hostname aliases of a segment (Segment spec.aliases): RFC 6570-style
// templates such as "{service}.{labels['acme.io/tier']}.acme" that give a
// global service further hosts. An alias is additive (the default host
// stays); one whose label or annotation is missing, or whose expansion is no
// DNS name, is skipped with the reason.

#include <string>
#include <string_view>

#include "lib/mesh/model.h"

namespace globalsvc::mesh {

struct AliasExpansion {
  std::string host;     // empty when skipped
  std::string skipped;  // why no host
};

// Expands `pattern` for `service`: {service}, {namespace}, {labels['k']} and
// {annotations['k']} (either quote). `cluster_domain` names are refused: they
// belong to Kubernetes Services.
[[nodiscard]] AliasExpansion ExpandAlias(std::string_view pattern, const Service& service,
                                         std::string_view cluster_domain);

// True when the alias applies to the Service: every matchLabels entry is
// among its labels.
[[nodiscard]] bool AliasSelects(const SegmentAlias& alias, const Service& service);

// Why `pattern` cannot expand for any Service (unbalanced braces, an unknown
// variable); empty when it can.
[[nodiscard]] std::string AliasPatternProblem(std::string_view pattern);

}  // namespace globalsvc::mesh
