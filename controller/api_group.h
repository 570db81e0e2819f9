#pragma once

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

}  // namespace globalsvc::controller
