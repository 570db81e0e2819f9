#pragma once

// ClusterConnection: one connected cluster (local or remote) — its API client
// and one reflector per watched resource (Services, Namespaces,
// EndpointSlices, Nodes, east-west gateway Deployments), feeding the cluster's
// part of the MeshStore. Stopping a connection keeps that state: a
// reconnection (rotated credentials) relists and applies only differences, so
// endpoints never disappear in between.

#include <memory>
#include <string>
#include <vector>

#include "controller/projection_sinks.h"
#include "lib/base/result.h"
#include "lib/kube/clock.h"
#include "lib/kube/kube_client.h"
#include "lib/kube/kubeconfig.h"
#include "lib/kube/reflector.h"
#include "lib/mesh/model.h"

namespace globalsvc::controller {

struct ClusterConnectionOptions {
  std::string cluster;  // the name the mesh knows the cluster by
  kube::ClusterConfig config;
  std::string control_plane_namespace = mesh::kDefaultControlPlaneNamespace;
  std::string network_override;
  std::string gateway_selector = "topology.istio.io/network";  // label selector
  double qps = 50;
  int burst = 100;
  kube::Clock* clock = &kube::SystemClock::Instance();  // the client's and its reflectors'
  std::size_t max_response_bytes = 16u << 20;
  std::size_t max_objects = 0;  // SinkContext::max_objects; 0 for the local cluster
  NamespaceFilter namespaces;   // SinkContext::namespaces; all for the local cluster
  // Also read Pods (service accounts) and the east-west gateways' Services
  // (addresses): what the WorkloadEntry shape needs.
  bool watch_identities = false;
  // Also read the Segments (globalsvc.io) of the control-plane namespace: the
  // local cluster's copies decide every cluster's segment. A cluster without
  // the Segment CRD (not upgraded yet) counts as holding none.
  bool watch_segments = false;
  MeshStore* store = nullptr;
  KeysCallback on_keys;
  DiagnosticsCallback on_diagnostics;
};

// Backoff of every watch the controller holds: capped low, so a cluster whose
// API server comes back is read again within a few seconds (changes made
// meanwhile converge quickly); a failing request per few seconds per resource
// is no load for an API server.
inline constexpr kube::BackoffPolicy kWatchBackoff{std::chrono::milliseconds(500),
                                                   std::chrono::milliseconds(4000), 2.0, 0.5};

struct ClusterHealth {
  bool synced = false;        // every resource listed at least once
  bool healthy = false;       // no reflector's last request failed
  std::uint64_t errors = 0;   // failed lists/watches so far
  std::uint64_t relists = 0;  // relists after 410 Gone so far
  std::string last_error;     // empty when healthy
};

class ClusterConnection {
 public:
  static Result<std::unique_ptr<ClusterConnection>> Connect(ClusterConnectionOptions options);
  ~ClusterConnection();

  void Stop();
  [[nodiscard]] ClusterHealth Health() const;
  [[nodiscard]] const std::string& cluster() const { return options_.cluster; }
  [[nodiscard]] kube::KubeClient& client() { return *client_; }

 private:
  explicit ClusterConnection(ClusterConnectionOptions options) : options_(std::move(options)) {}
  SinkContext MakeSinkContext();
  // The cluster's network in the store: the pinned one, else what its
  // control-plane namespace says (as far as known).
  void SetNetwork();
  // One reflector per watched kind, each feeding its projection sink.
  void StartWatches();

  ClusterConnectionOptions options_;
  std::unique_ptr<kube::KubeClient> client_;
  std::vector<std::unique_ptr<ProjectionSink>> sinks_;
  std::vector<std::unique_ptr<kube::Reflector>> reflectors_;
  std::vector<kube::Reflector*> relisted_;  // Services and EndpointSlices
};

}  // namespace globalsvc::controller
