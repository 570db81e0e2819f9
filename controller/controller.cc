#include "controller/controller.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "controller/api_group.h"
#include "controller/owned_objects.h"
#include "lib/base/guard.h"
#include "lib/mesh/model.h"
#include "lib/observability/logging.h"

namespace globalsvc::controller {
namespace {

std::string DefaultIdentity() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "unknown");
  return std::string(host) + "-" + std::to_string(::getpid());
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
        log_.Error("internal error, the work is retried", {{"where", where}, {"error", what}});
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
    log_.Info("serving metrics and health",
              {{"address", options_.metrics_address}, {"port", *port}});
  }

  auto local = StartLocal(*config);
  if (!local.ok()) return local.error();
  StartRemotes(*local);
  StartWriters();
  StartWorkersAndElection();
  started_ = true;
  log_.Info("started", {{"cluster", options_.cluster_name},
                        {"namespace", options_.control_plane_namespace},
                        {"identity", options_.identity},
                        {"leader_election", options_.leader_elect}});
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
      log_.Warn("object problem", LogFields(mesh::DiagnosticLogFields(d)));
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

void Controller::StartHealthLoop() {
  ClusterHealthLoopOptions loop_options;
  loop_options.cluster_name = options_.cluster_name;
  loop_options.control_plane_namespace = options_.control_plane_namespace;
  loop_options.host_suffix = options_.host_suffix;
  loop_options.secret_namespace = options_.secret_namespace;
  loop_options.clock = options_.clock;
  ClusterHealthParts parts;
  parts.metrics = &metrics_;
  parts.store = &store_;
  parts.queue = &queue_;
  parts.first_pass = &first_pass_;
  parts.local = local_.get();
  parts.remotes = remotes_.get();
  parts.health = health_.get();
  parts.reconciler = reconciler_.get();
  parts.events = events_.get();
  parts.status = status_.get();
  parts.legacy_cleanup = legacy_cleanup_.get();
  parts.may_write = [this] { return MayWrite(); };
  parts.enqueue = [this](std::vector<std::string> keys) { Enqueue(std::move(keys)); };
  health_loop_ = std::make_unique<ClusterHealthLoop>(std::move(loop_options), std::move(parts));
  health_loop_->Start();
}

void Controller::StartWorkersAndElection() {
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this](std::stop_token stop) { Work(stop); });
  }
  StartHealthLoop();

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
        log_.Info("stopped leading", {{"identity", options_.identity}});
      } else {
        log_.Warn("lost leadership: writes stopped", {{"identity", options_.identity}});
      }
    };
    callbacks.on_new_leader = [this](const std::string& identity) {
      log_.Info("leader observed", {{"leader", identity}, {"self", identity == options_.identity}});
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
  // (or this one restarted) finds nothing to write. The health loop is joined
  // first: Publish() runs on one thread at a time.
  if (health_loop_) {
    health_loop_->Stop();
    if (MayWrite()) health_loop_->Refresh();
  }
  leading_ = false;  // then writes stop, before anything else is torn down
  // The watches on the writer's client are told to stop first: cancelling
  // that client below then ends them as a stop, not as a failed watch.
  for (kube::Reflector* reflector :
       {observer_reflector_.get(), secret_reflector_.get(), legacy_secret_reflector_.get(),
        service_status_reflector_.get()}) {
    if (reflector) reflector->RequestStop();
  }
  for (auto& reflector : shape_reflectors_)
    reflector->RequestStop();
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
  log_.Info("stopped");
}

int Controller::metrics_port() const {
  return http_ ? http_->port() : 0;
}

std::pair<bool, std::string> Controller::Ready() const {
  if (!started_) return {false, "starting"};
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
  // The option, not shape_writer_: watches call this while Start() assigns it.
  if (options_.object_shape == ObjectShape::kWorkloadEntries && !keys.empty())
    queue_.Add(kPeerGatewaysKey);
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

}  // namespace globalsvc::controller
