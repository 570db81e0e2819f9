#pragma once

// Segments: groups of clusters with a host domain of their own
// (README.md "Segments"). A cluster belongs to the segment its control-plane
// namespace names in admin.solo.io/segment; no label, "default", or a name
// the target cluster holds no Segment for on its own side, means the default
// segment and the default host domain. A remote that names a segment the
// target has no copy of (or a copy with another domain) is refused: none of
// its services are planned, so a mistyped label cannot publish names under
// a domain the target does not know.

#include <string>
#include <string_view>

#include "lib/mesh/cluster_state.h"

namespace globalsvc::mesh {

// The most characters a segment domain may have.
inline constexpr std::size_t kMaxSegmentDomain = 63;

// A lowercase DNS name: labels of a-z, 0-9 and '-' (not at either end), at
// most 63 characters each, `max_length` in all.
[[nodiscard]] bool IsLowercaseDnsName(std::string_view name, std::size_t max_length);

// Why `domain` cannot be a segment's domain (not a lowercase DNS name, over
// kMaxSegmentDomain characters, or cluster.local); empty when it can.
[[nodiscard]] std::string SegmentDomainProblem(std::string_view domain);

struct SegmentMembership {
  std::string name;                  // empty: the default segment
  std::string domain;                // the segment's host domain
  const Segment* segment = nullptr;  // the target's copy; null for the default
  bool refused = false;
  std::string reason;  // why refused
};

// The segment name a cluster's control-plane namespace gives; empty for the
// default segment (no label, an empty one, or "default").
[[nodiscard]] std::string SegmentLabelOf(const ClusterState& cluster,
                                         const std::string& control_plane_namespace);

// The segment `cluster` belongs to as `target` sees it (`target` itself
// included). `default_domain`: the default segment's host domain.
[[nodiscard]] SegmentMembership MembershipOf(const ClusterState& cluster,
                                             const ClusterState& target,
                                             const std::string& control_plane_namespace,
                                             const std::string& default_domain);

// The generated ServiceEntry's name: autogen.<ns>.<svc> in the default
// segment, autogen.<segment>.<ns>.<svc> in another.
[[nodiscard]] std::string SegmentEntryName(std::string_view segment,
                                           std::string_view namespace_name,
                                           std::string_view service_name);

}  // namespace globalsvc::mesh
