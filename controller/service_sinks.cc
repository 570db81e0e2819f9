#include "controller/projection_sinks.h"
#include "lib/kube/reflector_sink.h"
#include "lib/mesh/object_decoder.h"
#include "lib/mesh/scope.h"

// The sinks of what a cluster exports: Services, Namespaces (their scope
// labels), EndpointSlices and the Pods behind them (service accounts).

namespace globalsvc::controller {
namespace {

// Whether the cluster already knows that `service` is not exported: only then
// may it be kept dormant. An unknown Namespace decides nothing (at start-up
// Services may be listed before Namespaces; keeping them whole spares a
// relist).
bool KnownNotExported(const mesh::ClusterState& state, const mesh::Service& service) {
  const mesh::Namespace* ns = state.FindNamespace(service.namespace_name);
  return ns != nullptr && !mesh::DecideScope(service.scope_label, ns->scope_label).exported;
}

// After a Namespace's scope label changed: Services it no longer exports
// become dormant, with their slices; dormant ones it may now export need a
// relist (`wants_relist`).
void Rescope(mesh::ClusterState& state, const std::string& namespace_name, bool& wants_relist) {
  std::vector<std::string> narrowed;
  for (const auto& [key, service] : state.services()) {
    if (service.namespace_name != namespace_name) continue;
    if (KnownNotExported(state, service)) {
      if (!service.dormant) narrowed.push_back(key);
    } else if (service.dormant || state.HasDormantSlices(key)) {
      wants_relist = true;
    }
  }
  for (const auto& key : narrowed) {
    mesh::Service dormant = *state.FindService(key);
    mesh::MakeDormant(dormant);
    state.UpsertService(std::move(dormant));
    state.MakeSlicesDormant(key);
  }
}

class ServiceSink final : public ProjectionSink {
 public:
  using ProjectionSink::ProjectionSink;

 protected:
  void Apply(const nlohmann::json& object, const std::string& key,
             std::vector<std::string>& keys) override {
    if (!Admitted(key)) return Remove(key, keys);
    mesh::Diagnostics diagnostics;
    auto service = mesh::DecodeService(object, {context_.cluster, &diagnostics});
    Report(diagnostics);
    if (!service) return Remove(key, keys);
    bool wants_relist = false;
    bool alias_fields_changed = false;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      if (KnownNotExported(state, *service)) mesh::MakeDormant(*service);
      const mesh::Service* old = state.FindService(key);
      if (old && *old == *service) return;
      alias_fields_changed = !old || old->labels != service->labels ||
                             old->annotations != service->annotations ||
                             old->dormant != service->dormant;
      if (!old && !MayAdd(state)) return;
      const bool dormant = service->dormant;
      state.UpsertService(std::move(*service));
      if (dormant) {
        state.MakeSlicesDormant(key);
      } else {
        wants_relist = state.HasDormantSlices(key);  // now exported: its endpoints are needed
      }
      keys.push_back(key);
    });
    ReportRefused();
    if (wants_relist) RequestRelist();
    // Another service may lose or win an alias this one expands to.
    if (alias_fields_changed && context_.store->HasAliases()) {
      auto all = context_.store->ServiceKeys();
      keys.insert(keys.end(), all.begin(), all.end());
    }
  }

  void Remove(const std::string& key, std::vector<std::string>& keys) override {
    bool removed = false;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      const mesh::Service* old = state.FindService(key);
      if (!old) return;
      state.RemoveService(old->namespace_name, old->name);  // key is built before erasing
      keys.push_back(key);
      removed = true;
    });
    if (removed && context_.store->HasAliases()) {
      auto all = context_.store->ServiceKeys();
      keys.insert(keys.end(), all.begin(), all.end());
    }
  }

  std::vector<std::string> StoredKeys() override {
    return context_.store->ServiceKeys(context_.cluster);
  }
};

class NamespaceSink final : public ProjectionSink {
 public:
  using ProjectionSink::ProjectionSink;

 protected:
  void Apply(const nlohmann::json& object, const std::string& key,
             std::vector<std::string>& keys) override {
    mesh::Diagnostics diagnostics;
    auto ns = mesh::DecodeNamespace(object, {context_.cluster, &diagnostics});
    Report(diagnostics);
    if (!ns) return Remove(key, keys);
    Store(std::move(*ns), keys);
  }

  void Remove(const std::string& key, std::vector<std::string>& keys) override {
    bool existed = false;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      existed = state.FindNamespace(key) != nullptr;
      state.RemoveNamespace(key);
    });
    if (!existed) return;
    mesh::Namespace gone;
    gone.name = key;
    AffectedBy(gone, keys);
    if (key == context_.control_plane_namespace) SetNetwork("", keys);  // all keys
  }

  std::vector<std::string> StoredKeys() override {
    std::vector<std::string> names;
    context_.store->Read(context_.cluster, [&](const mesh::ClusterState& state) {
      for (const auto& [name, ns] : state.namespaces())
        names.push_back(name);
    });
    return names;
  }

 private:
  void Store(mesh::Namespace ns, std::vector<std::string>& keys) {
    bool scope_changed = false;
    bool distribution_changed = false;
    bool waypoint_changed = false;
    bool network_changed = false;
    bool takeover_changed = false;
    bool segment_changed = false;
    bool wants_relist = false;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      const mesh::Namespace* old = state.FindNamespace(ns.name);
      if (old && *old == ns) return;
      if (!old && !MayAdd(state)) return;
      scope_changed = !old || old->scope_label != ns.scope_label;
      distribution_changed =
          !old || old->traffic_distribution_annotation != ns.traffic_distribution_annotation;
      waypoint_changed = !old || old->waypoint_label != ns.waypoint_label ||
                         old->waypoint_namespace_label != ns.waypoint_namespace_label;
      network_changed = !old || old->network_label != ns.network_label;
      takeover_changed = !old || old->takeover_label != ns.takeover_label;
      segment_changed = (old ? old->segment_label : std::nullopt) != ns.segment_label;
      state.UpsertNamespace(ns);
      if (scope_changed) Rescope(state, ns.name, wants_relist);
    });
    ReportRefused();
    if (wants_relist) RequestRelist();
    if (scope_changed || distribution_changed || waypoint_changed) AffectedBy(ns, keys);
    if (takeover_changed) TakeoverAffectedBy(ns, keys);
    if (network_changed && ns.name == context_.control_plane_namespace) {
      SetNetwork(ns.network_label, keys);
    }
    if (segment_changed && ns.name == context_.control_plane_namespace) {
      // The cluster's segment decides which entries every key has.
      auto all = context_.store->ServiceKeys();
      keys.insert(keys.end(), all.begin(), all.end());
    }
  }

  // A namespace's scope label, traffic-distribution annotation and waypoint
  // decide for every Service of this cluster in it that sets none of its own.
  void AffectedBy(const mesh::Namespace& ns, std::vector<std::string>& keys) {
    const std::string prefix = ns.name + "/";
    for (const auto& key : context_.store->ServiceKeys(context_.cluster)) {
      if (key.rfind(prefix, 0) == 0) keys.push_back(key);
    }
  }

  // A namespace's takeover label speaks for the Services of that namespace in
  // every cluster (a remote-only one included): the keys of all clusters.
  void TakeoverAffectedBy(const mesh::Namespace& ns, std::vector<std::string>& keys) {
    const std::string prefix = ns.name + "/";
    for (const auto& key : context_.store->ServiceKeys()) {
      if (key.rfind(prefix, 0) == 0) keys.push_back(key);
    }
  }

  // The cluster's network decides how every cluster sees its endpoints (and,
  // for the local cluster, how it sees every other cluster): all keys.
  void SetNetwork(const std::string& network, std::vector<std::string>& keys) {
    if (!context_.network_override.empty()) return;
    context_.store->Update(context_.cluster,
                           [&](mesh::ClusterState& state) { state.set_network(network); });
    auto all = context_.store->ServiceKeys();
    keys.insert(keys.end(), all.begin(), all.end());
  }
};

class EndpointSliceSink final : public ProjectionSink {
 public:
  explicit EndpointSliceSink(SinkContext context) : ProjectionSink(std::move(context)) {
    // A reconnecting cluster keeps its state: learn which slices it holds.
    context_.store->Read(context_.cluster, [&](const mesh::ClusterState& state) {
      for (const auto& [service_key, slices] : state.endpoint_slices_by_service()) {
        for (const auto& [name, slice] : slices) {
          service_of_slice_[mesh::ServiceKey(slice.namespace_name, name)] = slice.service_name;
        }
      }
    });
  }

 protected:
  void Apply(const nlohmann::json& object, const std::string& key,
             std::vector<std::string>& keys) override {
    if (!Admitted(key)) return Remove(key, keys);
    mesh::Diagnostics diagnostics;
    auto slice = mesh::DecodeEndpointSlice(object, {context_.cluster, &diagnostics});
    Report(diagnostics);
    if (!slice) return Remove(key, keys);
    auto previous = service_of_slice_.find(key);
    if (previous != service_of_slice_.end() && previous->second != slice->service_name) {
      Remove(key, keys);  // relabelled to another Service
    }
    const std::string service_key = mesh::ServiceKey(slice->namespace_name, slice->service_name);
    const std::string service_name = slice->service_name;  // the slice is moved into the store
    bool stored = false;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      if (const mesh::Service* owner = state.FindService(service_key); owner && owner->dormant) {
        mesh::MakeDormant(*slice);
      }
      bool held = false;
      if (const auto* slices = state.FindSlices(service_key)) {
        auto it = slices->find(slice->name);
        held = it != slices->end();
        stored = held;
        if (held && it->second == *slice) return;
      }
      if (!held && !MayAdd(state)) return;
      state.UpsertEndpointSlice(std::move(*slice));
      stored = true;
      keys.push_back(service_key);
    });
    if (stored) service_of_slice_[key] = service_name;
    ReportRefused();
  }

  void Remove(const std::string& key, std::vector<std::string>& keys) override {
    auto it = service_of_slice_.find(key);
    if (it == service_of_slice_.end()) return;
    const auto [key_namespace, key_name] = kube::SplitObjectKey(key);
    const std::string ns(key_namespace);
    const std::string name(key_name);
    const std::string service = it->second;
    service_of_slice_.erase(it);
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      state.RemoveEndpointSlice(ns, service, name);
    });
    keys.push_back(mesh::ServiceKey(ns, service));
  }

  std::vector<std::string> StoredKeys() override {
    std::vector<std::string> stored;
    for (const auto& [key, service] : service_of_slice_)
      stored.push_back(key);
    return stored;
  }

 private:
  std::unordered_map<std::string, std::string> service_of_slice_;  // "ns/slice" -> service
};

class PodSink final : public ProjectionSink {
 public:
  using ProjectionSink::ProjectionSink;

 protected:
  void Apply(const nlohmann::json& object, const std::string& key,
             std::vector<std::string>& keys) override {
    if (!Admitted(key)) return Remove(key, keys);
    auto pod = mesh::DecodePod(object, {context_.cluster, nullptr});
    if (!pod) return Remove(key, keys);
    bool changed = false;
    bool held = false;
    const std::string ns = pod->namespace_name;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      const std::string known = state.ServiceAccountOf(pod->namespace_name, pod->name);
      held = known == pod->service_account;
      if (held) return;
      if (known.empty() && !MayAdd(state)) return;
      state.UpsertPod(std::move(*pod));
      held = changed = true;
    });
    ReportRefused();
    if (held) stored_.insert(key);
    // A slice may name the pod before its Pod is read: plan its namespace's
    // services again, now with its identity.
    if (changed) AddNamespaceKeys(ns, keys);
  }

  void Remove(const std::string& key, std::vector<std::string>& /*keys*/) override {
    if (!stored_.erase(key)) return;
    const kube::ObjectKeyParts pod = kube::SplitObjectKey(key);
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      state.RemovePod(pod.namespace_name, pod.name);
    });
    // Its endpoints leave through its EndpointSlices.
  }

  std::vector<std::string> StoredKeys() override { return {stored_.begin(), stored_.end()}; }

 private:
  void AddNamespaceKeys(const std::string& ns, std::vector<std::string>& keys) {
    const std::string prefix = ns + "/";
    for (auto& key : context_.store->ServiceKeys(context_.cluster)) {
      if (key.rfind(prefix, 0) == 0) keys.push_back(std::move(key));
    }
  }

  std::unordered_set<std::string> stored_;
};

}  // namespace

std::unique_ptr<ProjectionSink> MakeServiceSink(SinkContext context) {
  return std::make_unique<ServiceSink>(std::move(context));
}

std::unique_ptr<ProjectionSink> MakeNamespaceSink(SinkContext context) {
  return std::make_unique<NamespaceSink>(std::move(context));
}

std::unique_ptr<ProjectionSink> MakeEndpointSliceSink(SinkContext context) {
  return std::make_unique<EndpointSliceSink>(std::move(context));
}

std::unique_ptr<ProjectionSink> MakePodSink(SinkContext context) {
  return std::make_unique<PodSink>(std::move(context));
}

}  // namespace globalsvc::controller
