#include "lib/mesh/segments.h"

#include "lib/mesh/service_entry.h"

namespace globalsvc::mesh {
namespace {

bool IsDnsLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(label.front()) || !alnum(label.back())) return false;
  for (char c : label) {
    if (!alnum(c) && c != '-') return false;
  }
  return true;
}

}  // namespace

bool IsLowercaseDnsName(std::string_view name, std::size_t max_length) {
  if (name.empty() || name.size() > max_length) return false;
  while (true) {
    const auto dot = name.find('.');
    if (!IsDnsLabel(name.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    name.remove_prefix(dot + 1);
  }
}

std::string SegmentDomainProblem(std::string_view domain) {
  if (domain.empty()) return "the domain is empty";
  if (domain.size() > kMaxSegmentDomain) {
    return "the domain has more than " + std::to_string(kMaxSegmentDomain) + " characters";
  }
  if (domain == "cluster.local") return "the domain cluster.local belongs to Kubernetes";
  if (!IsLowercaseDnsName(domain, kMaxSegmentDomain)) {
    return "the domain is not a lowercase DNS name (labels of a-z, 0-9 and '-')";
  }
  return {};
}

std::string SegmentLabelOf(const ClusterState& cluster,
                           const std::string& control_plane_namespace) {
  const Namespace* ns = cluster.FindNamespace(control_plane_namespace);
  if (!ns || !ns->segment_label || *ns->segment_label == kDefaultSegmentName) return {};
  return *ns->segment_label;
}

SegmentMembership MembershipOf(const ClusterState& cluster, const ClusterState& target,
                               const std::string& control_plane_namespace,
                               const std::string& default_domain) {
  SegmentMembership membership;
  membership.domain = default_domain;
  const std::string label = SegmentLabelOf(cluster, control_plane_namespace);
  if (label.empty()) return membership;
  const Segment* copy = target.FindSegment(label);
  if (&cluster == &target) {
    // Our own label naming a Segment we do not hold: the default segment.
    if (!copy) return membership;
  } else if (!copy) {
    membership.refused = true;
    membership.reason = "it is in segment '" + label + "', which cluster '" + target.name() +
                        "' has no Segment for";
    return membership;
  } else if (const Segment* own = cluster.FindSegment(label); own && own->domain != copy->domain) {
    membership.refused = true;
    membership.reason = "its segment '" + label + "' has domain '" + own->domain +
                        "', but cluster '" + target.name() + "' knows it as '" + copy->domain + "'";
    return membership;
  }
  membership.name = label;
  membership.domain = copy->domain;
  membership.segment = copy;
  return membership;
}

std::string SegmentEntryName(std::string_view segment, std::string_view namespace_name,
                             std::string_view service_name) {
  if (segment.empty()) return ServiceEntryName(namespace_name, service_name);
  return "autogen." + std::string(segment) + "." + std::string(namespace_name) + "." +
         std::string(service_name);
}

}  // namespace globalsvc::mesh
