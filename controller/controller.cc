#include "controller/controller.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "controller/api_group.h"
#include "controller/carry_over.h"
#include "controller/owned_objects.h"
#include "lib/base/guard.h"
#include "lib/mesh/carried_endpoints.h"
#include "lib/mesh/istio_objects.h"
#include "lib/mesh/model.h"
#include "lib/observability/logging.h"

namespace globalsvc::controller {
namespace {

std::string DefaultIdentity() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "unknown");
  return std::string(host) + "-" + std::to_string(::getpid());
}

// Sleeps until `delay` passes or `stop` is requested; false when stopped.
bool SleepFor(std::stop_token stop, std::chrono::milliseconds delay) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  return !wake.wait_for(lock, stop, delay, [] { return false; }) && !stop.stop_requested();
}

}  // namespace

Controller::Controller(ControllerOptions options)
    : options_(std::move(options)), log_(obs::ComponentLogger("controller")) {
  if (options_.secret_namespace.empty()) {
    options_.secret_namespace = options_.control_plane_namespace;
  }
  if (options_.identity.empty()) options_.identity = DefaultIdentity();
}

Controller::~Controller() {
  Stop();
}

Status Controller::Start() {
  // Exceptions caught at thread roots are counted and logged here.
  internal_error_handler_ =
      SetInternalErrorHandler([this](std::string_view where, std::string_view what) {
        metrics_.internal_errors.Inc({std::string(where)});
        log_->error("internal error, the work is retried where={} error={}", where, what);
      });
  auto config = options_.kubeconfig.empty()
                    ? kube::LoadInClusterConfig()
                    : kube::LoadKubeconfig(options_.kubeconfig, options_.context);
  if (!config.ok()) return config.error();
  config->name = options_.cluster_name;

  if (!options_.metrics_address.empty()) {
    http_ = std::make_unique<obs::HttpServer>(
        registry_, [] { return true; }, [this] { return Ready(); });
    auto port = http_->Start(options_.metrics_address);
    if (!port.ok()) return port.error();
    log_->info("serving metrics and health address={} port={}", options_.metrics_address, *port);
  }

  auto local = StartLocal(*config);
  if (!local.ok()) return local.error();
  StartRemotes(*local);
  StartWriters();
  StartWorkersAndElection();
  log_->info("started cluster={} namespace={} identity={} leader_election={}",
             options_.cluster_name, options_.control_plane_namespace, options_.identity,
             options_.leader_elect);
  return Ok{};
}

Result<ClusterConnectionOptions> Controller::StartLocal(const kube::ClusterConfig& config) {
  kube::TransportOptions transport;
  transport.qps = options_.qps;
  transport.burst = options_.burst;
  transport.max_response_bytes = static_cast<std::size_t>(options_.max_response_mib) << 20;
  // Leader election writes its Lease whether or not it leads: its own client.
  auto election_client = kube::KubeClient::Create(config, *options_.clock, transport);
  if (!election_client.ok()) return election_client.error();
  election_client_ = std::move(*election_client);
  // Every other write is fenced right before it is sent.
  transport.may_write = [this] { return MayWrite(); };
  auto writer = kube::KubeClient::Create(config, *options_.clock, transport);
  if (!writer.ok()) return writer.error();
  writer_ = std::move(*writer);

  ClusterConnectionOptions connection;
  connection.clock = options_.clock;
  connection.cluster = options_.cluster_name;
  connection.config = config;
  connection.control_plane_namespace = options_.control_plane_namespace;
  connection.network_override = options_.network;
  connection.gateway_selector = options_.gateway_selector;
  connection.qps = options_.qps;
  connection.burst = options_.burst;
  connection.max_response_bytes = static_cast<std::size_t>(options_.max_response_mib) << 20;
  connection.watch_identities = options_.object_shape == ObjectShape::kWorkloadEntries;
  connection.store = &store_;
  connection.on_keys = [this](std::vector<std::string> keys) { Enqueue(std::move(keys)); };
  connection.on_diagnostics = [this](const mesh::Diagnostics& diagnostics) {
    for (const auto& d : diagnostics) {
      metrics_.diagnostics.Inc({std::string(mesh::DiagnosticCodeName(d.code))});
      log_->warn("object problem {}", mesh::FormatDiagnostic(d));
    }
  };
  connection.watch_segments = true;
  auto local = ClusterConnection::Connect(connection);
  if (!local.ok()) return local.error();
  local_ = std::move(*local);

  observer_ = std::make_unique<ServiceEntryObserver>(
      [this](std::vector<std::string> keys) { Enqueue(std::move(keys)); });
  kube::ReflectorOptions observer_options;
  observer_options.namespace_name = options_.control_plane_namespace;
  observer_options.backoff = kWatchBackoff;
  observer_reflector_ = std::make_unique<kube::Reflector>(
      *writer_, kube::resources::ServiceEntries(), *observer_, observer_options);
  events_ = std::make_unique<EventRecorder>(
      *writer_, options_.identity, [this] { return MayWrite(); }, *options_.clock);
  observer_reflector_->Start();
  if (options_.object_shape == ObjectShape::kWorkloadEntries) StartShapeObservers();

  return connection;
}

void Controller::StartRemotes(const ClusterConnectionOptions& local_connection) {
  ClusterConnectionOptions remote_template = local_connection;
  remote_template.network_override.clear();  // remote networks come from their own labels
  remote_template.watch_segments = false;    // the local copies decide
  remote_template.max_objects = static_cast<std::size_t>(options_.max_remote_objects);
  remotes_ = std::make_unique<RemoteClusters>(options_.cluster_name, remote_template, metrics_,
                                              events_.get(), options_.secret_namespace,
                                              options_.read_legacy_secrets);
  RemoteHealthOptions health;
  health.stale_timeout = options_.remote_stale_timeout;
  health.secret_namespace = options_.secret_namespace;
  health_ = std::make_unique<RemoteHealthTracker>(store_, events_.get(), health);
  // A label selector cannot say "either label": one reflector per label.
  const auto secret_reflector = [&](const char* label, SecretLabel kind) {
    kube::ReflectorOptions secret_options;
    secret_options.namespace_name = options_.secret_namespace;
    secret_options.backoff = kWatchBackoff;
    secret_options.list.label_selector = std::string(label) + "=true";
    auto reflector = std::make_unique<kube::Reflector>(*writer_, kube::resources::Secrets(),
                                                       remotes_->sink(kind), secret_options);
    reflector->Start();
    return reflector;
  };
  secret_reflector_ = secret_reflector(kRemoteSecretLabel, SecretLabel::kOwn);
  if (options_.read_legacy_secrets) {
    legacy_secret_reflector_ = secret_reflector(kLegacyRemoteSecretLabel, SecretLabel::kLegacy);
  }
}

void Controller::StartWriters() {
  mesh::PlanOptions plan;
  plan.target_cluster = options_.cluster_name;
  plan.control_plane_namespace = options_.control_plane_namespace;
  plan.host_suffix = options_.host_suffix;
  plan.cluster_domain = options_.cluster_domain;
  plan.can_join_kubernetes_service = options_.object_shape == ObjectShape::kWorkloadEntries;
  reconciler_ = std::make_unique<Reconciler>(
      store_, *observer_, *writer_, plan, metrics_, events_.get(), [this] { return MayWrite(); },
      *options_.clock);
  if (shape_writer_) {
    mesh::ShapeOptions shape;
    shape.control_plane_namespace = options_.control_plane_namespace;
    shape.trust_domain = options_.trust_domain;
    reconciler_->WriteShapeWith(shape_writer_.get(), shape);
  }

  status_ = std::make_unique<StatusWriter>(*writer_, options_.control_plane_namespace, metrics_,
                                           *options_.clock);
  legacy_cleanup_ =
      std::make_unique<LegacyStatusCleanup>(*writer_, options_.control_plane_namespace, metrics_);
  ServiceStatusWriterOptions service_status;
  service_status.namespace_name = options_.control_plane_namespace;
  service_status.qps = options_.status_qps;
  service_status.clock = options_.clock;
  service_status_ = std::make_unique<ServiceStatusWriter>(
      *writer_, service_status, metrics_, [this] { return MayWrite(); },
      [this](std::vector<std::string> keys) { Enqueue(std::move(keys)); });
  reconciler_->PublishStatusTo(service_status_.get());
  kube::ReflectorOptions status_watch;
  status_watch.namespace_name = options_.control_plane_namespace;
  status_watch.backoff = kWatchBackoff;
  status_watch.absent_relist_interval = kAbsentResourceRelist;  // crds/ not installed
  service_status_reflector_ = std::make_unique<kube::Reflector>(*writer_, GlobalServiceResource(),
                                                                *service_status_, status_watch);
  service_status_reflector_->Start();
  service_status_->Start();
}

void Controller::StartWorkersAndElection() {
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this](std::stop_token stop) { Work(stop); });
  }
  gauges_ = std::jthread([this](std::stop_token stop) { RunGaugeLoop(stop); });

  if (options_.leader_elect) {
    kube::LeaderElectionConfig election;
    election.namespace_name = options_.control_plane_namespace;
    election.lease_name = options_.lease_name;
    election.identity = options_.identity;
    kube::LeaderCallbacks callbacks;
    callbacks.on_started_leading = [this](std::stop_token stop) { Lead(stop); };
    callbacks.on_stopped_leading = [this] {
      leading_ = false;
      metrics_.leader.Set(0);
      if (stopped_) {
        log_->info("stopped leading identity={}", options_.identity);
      } else {
        log_->warn("lost leadership: writes stopped identity={}", options_.identity);
      }
    };
    callbacks.on_new_leader = [this](const std::string& identity) {
      log_->info("leader observed leader={} self={}", identity, identity == options_.identity);
    };
    elector_ = std::make_unique<kube::LeaderElector>(*election_client_, election, callbacks);
    elector_->Start();
  } else {
    no_election_leader_ = std::jthread([this](std::stop_token stop) { Lead(stop); });
  }
}

void Controller::Stop() {
  if (stopped_.exchange(true)) return;
  // The leader leaves the RemoteCluster status current, so that the next one
  // (or this one restarted) finds nothing to write. The gauge loop is joined
  // first: Publish() runs on one thread at a time.
  gauges_ = {};
  if (MayWrite()) RefreshGauges();
  leading_ = false;  // then writes stop, before anything else is torn down
  // Nothing may write any more: end the local requests in flight, so that
  // joining the threads below never waits on a slow API server.
  if (writer_) writer_->CancelAll();
  if (elector_) elector_->Stop();
  no_election_leader_ = {};
  queue_.ShutDown();
  workers_.clear();  // joins
  if (service_status_reflector_) service_status_reflector_->Stop();
  if (service_status_) service_status_->Stop();
  if (secret_reflector_) secret_reflector_->Stop();
  if (legacy_secret_reflector_) legacy_secret_reflector_->Stop();
  if (remotes_) remotes_->StopAll();
  if (observer_reflector_) observer_reflector_->Stop();
  for (auto& reflector : shape_reflectors_)
    reflector->Stop();
  if (local_) local_->Stop();
  if (http_) http_->Stop();
  ClearInternalErrorHandler(internal_error_handler_);
  log_->info("stopped");
}

int Controller::metrics_port() const {
  return http_ ? http_->port() : 0;
}

std::pair<bool, std::string> Controller::Ready() const {
  if (!local_ || !local_->Health().synced) return {false, "local cluster caches not synced"};
  if (!observer_ || !observer_->synced()) return {false, "ServiceEntries not synced"};
  if (shape_writer_ && !ShapeObservers{shape_service_entries_.get(), shape_workload_entries_.get(),
                                       shape_gateways_.get()}
                            .synced()) {
    return {false, "ServiceEntries, WorkloadEntries or peer Gateways not synced"};
  }
  if (!remotes_ || !remotes_->synced()) return {false, "remote secrets not listed"};
  return {true, ""};
}

bool Controller::MayWrite() const {
  if (!leading_) return false;
  return !elector_ || elector_->IsLeader();
}

void Controller::Enqueue(std::vector<std::string> keys) {
  // Whatever changed may change the peer Gateways too (a gateway, its
  // address, a network, a cluster); planning them is cheap and the queue
  // folds the repeats into one.
  if (shape_writer_ && !keys.empty()) queue_.Add(kPeerGatewaysKey);
  for (const auto& key : keys)
    queue_.Add(key);
}

void Controller::StartShapeObservers() {
  auto enqueue = [this](std::vector<std::string> keys) { Enqueue(std::move(keys)); };
  shape_service_entries_ =
      std::make_unique<OwnedObjectObserver>("networking.istio.io/v1", "ServiceEntry", enqueue);
  shape_workload_entries_ =
      std::make_unique<OwnedObjectObserver>("networking.istio.io/v1", "WorkloadEntry", enqueue);
  shape_gateways_ =
      std::make_unique<OwnedObjectObserver>("gateway.networking.k8s.io/v1", "Gateway", enqueue);
  // Every namespace and every object of the kind, not only ours: a foreign
  // object with a name we write must be seen to be left alone.
  const auto watch = [&](const kube::ResourceType& type, OwnedObjectObserver& sink,
                         const std::string& ns) {
    kube::ReflectorOptions reflector_options;
    reflector_options.namespace_name = ns;
    reflector_options.backoff = kWatchBackoff;
    shape_reflectors_.push_back(
        std::make_unique<kube::Reflector>(*writer_, type, sink, reflector_options));
    shape_reflectors_.back()->Start();
  };
  watch(kube::resources::ServiceEntries(), *shape_service_entries_, "");
  watch(kube::resources::WorkloadEntries(), *shape_workload_entries_, "");
  watch(kube::resources::Gateways(), *shape_gateways_, options_.control_plane_namespace);
  shape_writer_ = std::make_unique<ObjectSetWriter>(
      *writer_,
      ShapeObservers{shape_service_entries_.get(), shape_workload_entries_.get(),
                     shape_gateways_.get()},
      metrics_, [this] { return MayWrite(); });
}

bool Controller::WaitForSync(std::stop_token stop) {
  const auto deadline = options_.clock->Now() + options_.initial_sync_timeout;
  bool warned = false;
  while (!stop.stop_requested()) {
    if (Ready().first) {
      std::vector<std::string> waiting;
      for (const auto& remote : remotes_->Status()) {
        if (remote.connected && !remote.health.synced) waiting.push_back(remote.cluster);
      }
      if (waiting.empty()) return true;
      if (options_.clock->Now() >= deadline) {
        if (!warned) {
          for (const auto& cluster : waiting) {
            log_->warn(
                "remote cluster not synced within the initial sync timeout; writing without it "
                "cluster={}",
                cluster);
          }
        }
        return true;
      }
    }
    if (!SleepFor(stop, std::chrono::milliseconds(100))) return false;
  }
  return false;
}

void Controller::Lead(std::stop_token stop) {
  // A replica that holds the Lease must write: an exception while taking the
  // lead is reported and the lead taken again, not left half-done.
  while (!RunGuarded("lead", [&] { LeadOnce(stop); })) {
    leading_ = false;
    metrics_.leader.Set(0);
    if (!SleepFor(stop, std::chrono::seconds(1))) return;
  }
}

void Controller::LeadOnce(std::stop_token stop) {
  log_->info("leading: waiting for caches to sync identity={}", options_.identity);
  if (!WaitForSync(stop)) return;
  CarryOverUnsyncedRemotes();
  // Level-triggered: every key that may need a write, including owned
  // ServiceEntries whose service is gone (changes made while no one led).
  std::set<std::string> keys;
  for (auto& key : store_.ServiceKeys())
    keys.insert(std::move(key));
  for (auto& key : observer_->ManagedKeys())
    keys.insert(std::move(key));
  if (shape_writer_) {
    keys.insert(kPeerGatewaysKey);
    for (auto* observer :
         {shape_service_entries_.get(), shape_workload_entries_.get(), shape_gateways_.get()}) {
      for (auto& key : observer->OwnerKeys())
        keys.insert(std::move(key));
    }
  }
  first_pass_.Begin(keys);
  leading_ = true;
  metrics_.leader.Set(1);
  log_->info("leading: caches synced, reconciling keys={}", keys.size());
  Enqueue({keys.begin(), keys.end()});
  while (SleepFor(stop, std::chrono::hours(1))) {
  }
  leading_ = false;
  metrics_.leader.Set(0);
}

void Controller::Work(std::stop_token stop) {
  while (!stop.stop_requested()) {
    auto key = queue_.Get();
    if (!key) return;  // shut down
    if (!leading_) {
      // A standby drops keys: on becoming leader it reconciles everything.
      queue_.Forget(*key);
      queue_.Done(*key);
      continue;
    }
    // An exception while reconciling one service is that service's error
    // (retried with backoff), never the end of the worker.
    ReconcileResult result;
    result.outcome = ReconcileOutcome::kError;
    (void)RunGuarded("reconcile", [&] { result = reconciler_->Reconcile(*key); });
    if (first_pass_.Reconciled(*key)) log_->info("leading: every key reconciled once");
    if (result.outcome == ReconcileOutcome::kError) {
      queue_.AddRateLimited(*key);
    } else {
      queue_.Forget(*key);
    }
    queue_.Done(*key);
  }
}

void Controller::RunGaugeLoop(std::stop_token stop) {
  do {
    (void)RunGuarded("gauge loop", [&] {
      if (remotes_ && health_) Enqueue(health_->Observe(remotes_->Status(), options_.clock->Now()));
      RefreshGauges();
    });
  } while (SleepFor(stop, std::chrono::seconds(2)));
}

void Controller::CarryOverUnsyncedRemotes() {
  std::set<std::string> unsynced;
  for (const auto& remote : remotes_->Status()) {
    if (!(remote.connected && remote.health.synced)) unsynced.insert(remote.cluster);
  }
  if (unsynced.empty()) return;
  CarryOverOptions carry;
  carry.workload_entries = shape_writer_ != nullptr;
  carry.control_plane_namespace = options_.control_plane_namespace;
  CarryOverUnsynced(*writer_, carry, unsynced, store_);
}

ClusterStatusReport Controller::ReportCluster(const ClusterSample& sample,
                                              const ContributionMap& contributions) {
  const std::string& cluster = sample.cluster;
  const ClusterHealth& health = sample.health;
  metrics_.cluster_synced.Set(health.synced ? 1 : 0, {cluster});
  metrics_.cluster_connected.Set(health.healthy ? 1 : 0, {cluster});
  // Stale: its last known (or carried-over) endpoints are kept while it
  // cannot be read; removed: kept no longer (--remote-stale-timeout).
  const bool removed = !sample.local && store_.IsWithheld(cluster);
  const bool stale = !removed && ((health.synced && !health.healthy) ||
                                  (!sample.local && store_.HasCarried(cluster)));
  metrics_.cluster_stale.Set(stale ? 1 : 0, {cluster});
  if (!sample.local) metrics_.cluster_stale_removed.Set(removed ? 1 : 0, {cluster});
  if (const auto delta = watch_errors_.Observe(cluster, sample.generation, health.errors)) {
    metrics_.watch_restarts.Inc({cluster}, static_cast<double>(delta));
  }
  if (const auto delta = watch_relists_.Observe(cluster, sample.generation, health.relists)) {
    metrics_.watch_relists.Inc({cluster}, static_cast<double>(delta));
  }

  ClusterStatusReport report;
  report.cluster = cluster;
  report.local = sample.local;
  report.secret = sample.secret;
  report.connected = health.healthy;
  report.synced = health.synced;
  report.stale = stale;
  report.endpoints_removed = removed;
  store_.Read(cluster, [&](const mesh::ClusterState& state) { report.network = state.network(); });
  mesh::PlanOptions segment_view;
  segment_view.target_cluster = options_.cluster_name;
  segment_view.control_plane_namespace = options_.control_plane_namespace;
  segment_view.host_suffix = options_.host_suffix;
  if (auto membership = store_.Membership(cluster, segment_view)) {
    report.segment = membership->name;
    report.segment_refused = membership->reason;
  }
  if (auto it = contributions.find(cluster); it != contributions.end()) {
    report.services = it->second.services;
    report.endpoints = it->second.endpoints;
  }
  report.last_error = health.last_error;
  return report;
}

void Controller::RefreshGauges() {
  const auto contributions = reconciler_ ? reconciler_->Contributions() : ContributionMap{};
  std::vector<ClusterStatusReport> reports;
  if (local_) {
    reports.push_back(
        ReportCluster({options_.cluster_name, local_->Health(), true, "", 0}, contributions));
  }
  if (remotes_) {
    for (const auto& remote : remotes_->Status()) {
      reports.push_back(ReportCluster({remote.cluster, ReportedHealth(remote), false, remote.secret,
                                       remote.connection_generation},
                                      contributions));
    }
    // Level-triggered like the rest: a Secret's problem is recorded again
    // while it lasts (by a new leader at once, else when the recorder allows).
    if (events_) {
      for (const auto& problem : remotes_->Problems()) {
        events_->Warning({"v1", "Secret", options_.secret_namespace, problem.secret},
                         "RemoteClusterSecret", problem.message);
      }
    }
  }
  metrics_.queue_depth.Set(static_cast<double>(queue_.ready_count() + queue_.delayed_count()));
  // Status objects are written by the leader only, once its first pass has
  // counted every service, at this loop's pace and only when they change.
  if (status_ && first_pass_.done() && MayWrite()) status_->Publish(reports);
  // Objects of the old API group: deleted once, by the leader; a transient
  // error is tried again on the next round.
  if (legacy_cleanup_ && !legacy_cleanup_->done() && MayWrite()) (void)legacy_cleanup_->Run();
}

}  // namespace globalsvc::controller
