#pragma once

// Controller: the daemon. Watches the local cluster and every remote cluster
// named by a remote Secret, plans each global service, and keeps the local
// cluster's ServiceEntries equal to the plan (watch -> cache -> queue -> plan
// -> apply). Only the leader writes, and only after the local cluster, its
// ServiceEntries, the remote Secrets and every remote cluster have synced
// once (remote clusters are waited for at most `initial_sync_timeout`).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/cluster_connection.h"
#include "controller/cluster_health_loop.h"
#include "controller/controller_metrics.h"
#include "controller/event_recorder.h"
#include "controller/first_pass.h"
#include "controller/legacy_status_cleanup.h"
#include "controller/mesh_store.h"
#include "controller/object_set_writer.h"
#include "controller/owned_object_observer.h"
#include "controller/reconciler.h"
#include "controller/remote_clusters.h"
#include "controller/remote_health.h"
#include "controller/service_entry_observer.h"
#include "controller/service_status_writer.h"
#include "controller/status_writer.h"
#include "lib/base/log.h"
#include "lib/base/result.h"
#include "lib/kube/clock.h"
#include "lib/kube/leader_elector.h"
#include "lib/kube/reflector.h"
#include "lib/kube/work_queue.h"
#include "lib/mesh/model.h"
#include "lib/observability/http_server.h"
#include "lib/observability/metrics.h"

namespace globalsvc::controller {

// What the controller writes for a global service: one ServiceEntry with its
// endpoints inline in the control-plane namespace, or the shape upstream
// istiod needs (lib/mesh/istio_objects.h): a ServiceEntry selecting one
// WorkloadEntry per endpoint in the Service's namespace, and peer Gateways.
enum class ObjectShape { kInline, kWorkloadEntries };

struct ControllerOptions {
  std::string cluster_name;
  std::string kubeconfig;  // empty: in-cluster configuration
  std::string context;
  std::string network;  // empty: the control-plane namespace's topology.istio.io/network label
  std::string control_plane_namespace = mesh::kDefaultControlPlaneNamespace;
  std::string secret_namespace;  // empty: the control-plane namespace
  // Also read remote Secrets with the legacy istio/multiCluster=true label.
  bool read_legacy_secrets = true;
  std::string gateway_selector = "topology.istio.io/network";
  std::string host_suffix = "mesh.internal";
  std::string cluster_domain = "cluster.local";  // of a taken-over <svc>.<ns>.svc.<domain>
  ObjectShape object_shape = ObjectShape::kWorkloadEntries;
  std::string trust_domain = "cluster.local";  // of the SANs the WorkloadEntry shape writes
  int workers = 2;
  double qps = 50;
  double status_qps = 10;  // GlobalService status writes, a share of qps; 0: qps only
  int burst = 100;
  int max_response_mib = 16;  // per answer; see TransportOptions::max_response_bytes
  std::int64_t max_remote_objects = 1'000'000;  // per remote cluster; see SinkContext
  std::string metrics_address = ":9090";        // empty: no HTTP server
  bool leader_elect = true;
  std::string lease_name = "globalsvc";
  std::string identity;  // empty: hostname + pid
  std::chrono::seconds initial_sync_timeout{60};
  // A remote cluster unreachable (or unsynced) this long has its endpoints
  // removed until it can be read again; zero keeps them forever (stale).
  std::chrono::milliseconds remote_stale_timeout{0};
  // Every read of the time, so tests can drive it.
  kube::Clock* clock = &kube::SystemClock::Instance();
};

class Controller {
 public:
  explicit Controller(ControllerOptions options);
  ~Controller();

  // Connects and starts every thread; fails only on bad configuration of the
  // local cluster or the HTTP address.
  Status Start();
  // Leaves the RemoteCluster status current (when leading), stops writing,
  // then stops every watch and thread. Idempotent.
  void Stop();

  [[nodiscard]] int metrics_port() const;
  [[nodiscard]] obs::Registry& registry() { return registry_; }
  // Ready once the local caches synced (the /readyz answer).
  [[nodiscard]] std::pair<bool, std::string> Ready() const;

 private:
  void Enqueue(std::vector<std::string> keys);
  void Lead(std::stop_token stop);
  void LeadOnce(std::stop_token stop);
  bool WaitForSync(std::stop_token stop);
  void Work(std::stop_token stop);
  // Remote clusters not synced when writing starts keep the endpoints the
  // local ServiceEntries hold for them (Lead thread, before the first write).
  void CarryOverUnsyncedRemotes();
  [[nodiscard]] bool MayWrite() const;
  // The WorkloadEntry shape's observers, their reflectors and its writer.
  void StartShapeObservers();
  // Start() in steps: the local cluster's clients, connection, observers
  // and Event recorder (returns the connection's options, the remotes'
  // template); the remote Secrets and health; the reconciler and the status
  // writers; the workers, the health loop and leader election.
  Result<ClusterConnectionOptions> StartLocal(const kube::ClusterConfig& config);
  void StartRemotes(const ClusterConnectionOptions& local_connection);
  void StartWriters();
  void StartWorkersAndElection();
  void StartHealthLoop();

  ControllerOptions options_;
  obs::Registry registry_;
  ControllerMetrics metrics_{registry_};
  MeshStore store_;
  kube::WorkQueue queue_;
  std::unique_ptr<ClusterConnection> local_;
  // The local cluster's clients: the Lease's own, and the one every other
  // write goes through (fenced by MayWrite() right before each request).
  std::unique_ptr<kube::KubeClient> election_client_;
  std::unique_ptr<kube::KubeClient> writer_;
  std::unique_ptr<EventRecorder> events_;
  std::unique_ptr<ServiceEntryObserver> observer_;
  std::unique_ptr<kube::Reflector> observer_reflector_;
  // The WorkloadEntry shape: what the cluster holds of each kind, and the
  // one writer of all three.
  std::unique_ptr<OwnedObjectObserver> shape_service_entries_;
  std::unique_ptr<OwnedObjectObserver> shape_workload_entries_;
  std::unique_ptr<OwnedObjectObserver> shape_gateways_;
  std::vector<std::unique_ptr<kube::Reflector>> shape_reflectors_;
  std::unique_ptr<ObjectSetWriter> shape_writer_;
  std::unique_ptr<RemoteClusters> remotes_;
  std::unique_ptr<kube::Reflector> secret_reflector_;
  std::unique_ptr<kube::Reflector> legacy_secret_reflector_;  // --read-legacy-secrets
  std::unique_ptr<RemoteHealthTracker> health_;               // health loop only
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<StatusWriter> status_;
  std::unique_ptr<LegacyStatusCleanup> legacy_cleanup_;        // objects of the old API group
  std::unique_ptr<ServiceStatusWriter> service_status_;        // GlobalService objects
  std::unique_ptr<kube::Reflector> service_status_reflector_;  // feeds service_status_
  std::unique_ptr<kube::LeaderElector> elector_;
  std::unique_ptr<obs::HttpServer> http_;
  std::atomic<bool> leading_{false};
  // Set once every part exists: the HTTP server's readiness probe and the
  // watch callbacks run on other threads while Start() is still assigning them.
  std::atomic<bool> started_{false};
  FirstPass first_pass_;  // RemoteCluster status waits for it
  std::unique_ptr<ClusterHealthLoop> health_loop_;
  std::atomic<bool> stopped_{false};
  std::vector<std::jthread> workers_;
  std::jthread no_election_leader_;
  std::uint64_t internal_error_handler_ = 0;
  Logger log_;
};

}  // namespace globalsvc::controller
