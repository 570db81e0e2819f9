#pragma once

#include <chrono>

#include "lib/kube/resource_type.h"

// The API group of globalsvc's own resources (crds/): RemoteCluster and
// GlobalService, status only.

namespace globalsvc::controller {

inline constexpr const char* kApiGroup = "globalsvc.io";
inline constexpr const char* kApiGroupVersion = "v1alpha1";
inline constexpr const char* kApiVersion = "globalsvc.io/v1alpha1";

// The group these resources had before (a domain that is not ours). Objects
// of it are never written; the ones globalsvc made are deleted once
// (legacy_status_cleanup.h).
inline constexpr const char* kLegacyApiGroup = "globalsvc.solo.io";

// Segments: read, never written.
inline const kube::ResourceType& SegmentsResource() {
  static const kube::ResourceType type{kApiGroup, kApiGroupVersion, "segments", true};
  return type;
}

// How often a resource type the server does not serve (a CRD not installed
// yet) is looked for again.
inline constexpr std::chrono::seconds kAbsentResourceRelist{30};

}  // namespace globalsvc::controller
