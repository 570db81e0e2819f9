#pragma once

// How a remote-cluster Secret is recognised: shared by the controller, which
// reads these Secrets, and `globalsvc remote-secret`, which prints them.

namespace globalsvc::controller {

// The label (value "true") of the Secrets that connect remote clusters: our
// own, which istiod does not watch.
inline constexpr const char* kRemoteSecretLabel = "globalsvc.solo.io/remote-cluster";
// The label istiod watches for its own remote Secrets, which globalsvc used
// first: read until relabelled, with a warning.
inline constexpr const char* kLegacyRemoteSecretLabel = "istio/multiCluster";
// `remote-secret` names the Secret of cluster C <prefix>C: a name istioctl's
// own istio-remote-secret-C never takes.
inline constexpr const char* kRemoteSecretNamePrefix = "globalsvc-remote-";
// The chart keeps remote Secrets in a namespace of their own by default, so
// the controller cannot read the control plane's Secrets; `remote-secret`
// prints them there unless told otherwise.
inline constexpr const char* kDefaultRemoteSecretNamespace = "globalsvc-remotes";

}  // namespace globalsvc::controller
