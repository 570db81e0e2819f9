#include "controller/cluster_connection.h"

#include "controller/api_group.h"

namespace globalsvc::controller {

namespace {

struct Watched {
  const kube::ResourceType& type;
  std::unique_ptr<ProjectionSink> sink;
  std::string namespace_name;
  std::string label_selector;
  bool relisted_on_request = false;  // holds dormant records
  bool may_be_absent = false;        // a resource type the server may not serve
};

std::vector<Watched> WatchesFor(const ClusterConnectionOptions& o, const SinkContext& context) {
  std::vector<Watched> watched;
  // Namespaces first: scope labels and the network decide how the rest reads.
  watched.push_back({kube::resources::Namespaces(), MakeNamespaceSink(context), "", ""});
  watched.push_back({kube::resources::Nodes(), MakeNodeSink(context), "", ""});
  watched.push_back({kube::resources::Deployments(), MakeGatewaySink(context),
                     o.control_plane_namespace, o.gateway_selector});
  watched.push_back({kube::resources::Services(), MakeServiceSink(context), "", "", true});
  // Only slices that belong to a Service.
  watched.push_back({kube::resources::EndpointSlices(), MakeEndpointSliceSink(context), "",
                     "kubernetes.io/service-name", true});
  if (o.watch_segments) {
    Watched segments{SegmentsResource(), MakeSegmentSink(context), o.control_plane_namespace, ""};
    segments.may_be_absent = true;
    watched.push_back(std::move(segments));
  }
  if (o.watch_identities) {
    watched.push_back({kube::resources::Pods(), MakePodSink(context), "", ""});
    watched.push_back({kube::resources::Services(), MakeGatewayAddressSink(context),
                       o.control_plane_namespace, o.gateway_selector});
  }
  return watched;
}

}  // namespace

Result<std::unique_ptr<ClusterConnection>> ClusterConnection::Connect(
    ClusterConnectionOptions options) {
  kube::TransportOptions transport;
  transport.qps = options.qps;
  transport.burst = options.burst;
  transport.max_response_bytes = options.max_response_bytes;
  auto client = kube::KubeClient::Create(options.config, *options.clock, transport);
  if (!client.ok()) return client.error();

  std::unique_ptr<ClusterConnection> connection(new ClusterConnection(std::move(options)));
  connection->client_ = std::move(*client);
  connection->SetNetwork();
  connection->StartWatches();
  return connection;
}

SinkContext ClusterConnection::MakeSinkContext() {
  const auto& o = options_;
  SinkContext context;
  context.cluster = o.cluster;
  context.control_plane_namespace = o.control_plane_namespace;
  context.network_override = o.network_override;
  context.store = o.store;
  context.on_keys = o.on_keys;
  context.on_diagnostics = o.on_diagnostics;
  context.max_objects = o.max_objects;
  context.namespaces = o.namespaces;
  // Sinks call this on reflector threads, which start after `relisted_` is
  // complete and stop before the connection goes.
  context.on_relist = [this] {
    for (kube::Reflector* reflector : relisted_)
      reflector->Relist();
  };
  return context;
}

void ClusterConnection::SetNetwork() {
  const auto& o = options_;
  // The network: pinned, or else the control-plane namespace's label as far
  // as it is known (a pin just removed must not outlive its connection).
  bool network_changed = false;
  o.store->Update(o.cluster, [&](mesh::ClusterState& state) {
    std::string network = o.network_override;
    if (network.empty()) {
      const mesh::Namespace* ns = state.FindNamespace(o.control_plane_namespace);
      network = ns ? ns->network_label : state.network();
    }
    network_changed = network != state.network();
    state.set_network(network);
  });
  if (network_changed && o.on_keys) o.on_keys(o.store->ServiceKeys());
}

void ClusterConnection::StartWatches() {
  for (auto& w : WatchesFor(options_, MakeSinkContext())) {
    kube::ReflectorOptions reflector_options;
    reflector_options.namespace_name = w.namespace_name;
    reflector_options.list.label_selector = w.label_selector;
    reflector_options.backoff = kWatchBackoff;
    if (w.may_be_absent) reflector_options.absent_relist_interval = kAbsentResourceRelist;
    reflectors_.push_back(
        std::make_unique<kube::Reflector>(*client_, w.type, *w.sink, reflector_options));
    if (w.relisted_on_request) relisted_.push_back(reflectors_.back().get());
    sinks_.push_back(std::move(w.sink));
  }
  for (auto& reflector : reflectors_)
    reflector->Start();
}

ClusterConnection::~ClusterConnection() {
  Stop();
}

void ClusterConnection::Stop() {
  // Every watch is told to stop first, so the cancel below reads as a stop,
  // not as a failed watch. A list blocked on a silent or trickling server
  // cannot see its stop token: the requests are ended before joining, so
  // stopping never waits on the network.
  for (auto& reflector : reflectors_)
    reflector->RequestStop();
  if (client_) client_->CancelAll();
  for (auto& reflector : reflectors_)
    reflector->Stop();
}

ClusterHealth ClusterConnection::Health() const {
  ClusterHealth health;
  health.synced = true;
  health.healthy = true;
  for (const auto& sink : sinks_)
    health.synced = health.synced && sink->synced();
  for (const auto& reflector : reflectors_) {
    const auto stats = reflector->stats();
    health.errors += stats.errors;
    health.relists += stats.gone_relists;
    if (!stats.last_error.empty()) {
      health.healthy = false;
      if (health.last_error.empty()) health.last_error = stats.last_error;
    }
  }
  return health;
}

}  // namespace globalsvc::controller
