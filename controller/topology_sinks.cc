#include "controller/projection_sinks.h"
#include "lib/kube/reflector_sink.h"
#include "lib/mesh/object_decoder.h"

// The sinks of a cluster's topology: Nodes (localities), east-west gateways
// and their addresses, and Segments.

namespace globalsvc::controller {
namespace {

// The keys of every Service of this cluster: what a change of the cluster's
// topology (nodes, gateways) can affect.
void AddClusterKeys(const SinkContext& context, std::vector<std::string>& keys) {
  auto cluster_keys = context.store->ServiceKeys(context.cluster);
  keys.insert(keys.end(), cluster_keys.begin(), cluster_keys.end());
}

class NodeSink final : public ProjectionSink {
 public:
  using ProjectionSink::ProjectionSink;

 protected:
  void Apply(const nlohmann::json& object, const std::string& key,
             std::vector<std::string>& keys) override {
    mesh::Diagnostics diagnostics;
    auto node = mesh::DecodeNode(object, {context_.cluster, &diagnostics});
    Report(diagnostics);
    if (!node) return Remove(key, keys);
    bool changed = false;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      const mesh::Node* old = state.FindNode(key);
      if (old && *old == *node) return;  // heartbeats and status updates end here
      if (!old && !MayAdd(state)) return;
      state.UpsertNode(std::move(*node));
      changed = true;
    });
    ReportRefused();
    if (changed) AddClusterKeys(context_, keys);
  }

  void Remove(const std::string& key, std::vector<std::string>& keys) override {
    bool existed = false;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      existed = state.FindNode(key) != nullptr;
      state.RemoveNode(key);
    });
    if (existed) AddClusterKeys(context_, keys);
  }

  std::vector<std::string> StoredKeys() override {
    std::vector<std::string> names;
    context_.store->Read(context_.cluster, [&](const mesh::ClusterState& state) {
      for (const auto& [name, node] : state.nodes())
        names.push_back(name);
    });
    return names;
  }
};

class GatewaySink final : public ProjectionSink {
 public:
  using ProjectionSink::ProjectionSink;

 protected:
  void Apply(const nlohmann::json& object, const std::string& key,
             std::vector<std::string>& keys) override {
    mesh::Diagnostics diagnostics;
    auto gateway = mesh::DecodeGateway(object, {context_.cluster, &diagnostics});
    Report(diagnostics);
    if (!gateway) return Remove(key, keys);
    bool changed = false;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      auto it = state.gateways().find(gateway->name);
      if (it != state.gateways().end() && it->second == *gateway) return;
      if (it == state.gateways().end() && !MayAdd(state)) return;
      state.UpsertGateway(std::move(*gateway));
      changed = true;
    });
    ReportRefused();
    if (changed) AddClusterKeys(context_, keys);
  }

  void Remove(const std::string& key, std::vector<std::string>& keys) override {
    const std::string name = std::string(kube::SplitObjectKey(key).name);
    bool existed = false;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      existed = state.gateways().count(name) > 0;
      state.RemoveGateway(name);
    });
    if (existed) AddClusterKeys(context_, keys);
  }

  std::vector<std::string> StoredKeys() override {
    std::vector<std::string> stored;
    context_.store->Read(context_.cluster, [&](const mesh::ClusterState& state) {
      for (const auto& [name, gateway] : state.gateways()) {
        stored.push_back(mesh::ServiceKey(context_.control_plane_namespace, name));
      }
    });
    return stored;
  }
};

// The cluster's Segments: a segment's domain or aliases decide the hosts of
// every global service of its clusters, so a change replans all keys.
class SegmentSink final : public ProjectionSink {
 public:
  using ProjectionSink::ProjectionSink;

 protected:
  void Apply(const nlohmann::json& object, const std::string& key,
             std::vector<std::string>& keys) override {
    mesh::Diagnostics diagnostics;
    auto segment = mesh::DecodeSegment(object, {context_.cluster, &diagnostics});
    Report(diagnostics);
    if (!segment) return Remove(key, keys);
    bool changed = false;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      const mesh::Segment* old = state.FindSegment(segment->name);
      if (old && *old == *segment) return;
      if (!old && !MayAdd(state)) return;
      state.UpsertSegment(std::move(*segment));
      changed = true;
    });
    ReportRefused();
    if (changed) AddAllKeys(keys);
  }

  void Remove(const std::string& key, std::vector<std::string>& keys) override {
    const std::string name = std::string(kube::SplitObjectKey(key).name);
    bool existed = false;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      existed = state.FindSegment(name) != nullptr;
      state.RemoveSegment(name);
    });
    if (existed) AddAllKeys(keys);
  }

  std::vector<std::string> StoredKeys() override {
    std::vector<std::string> stored;
    context_.store->Read(context_.cluster, [&](const mesh::ClusterState& state) {
      for (const auto& [name, segment] : state.segments()) {
        stored.push_back(mesh::ServiceKey(context_.control_plane_namespace, name));
      }
    });
    return stored;
  }

 private:
  void AddAllKeys(std::vector<std::string>& keys) const {
    auto all = context_.store->ServiceKeys();
    keys.insert(keys.end(), all.begin(), all.end());
  }
};

// Pods are kept for their service account only: a WorkloadEntry carries a
// pod's identity, which its EndpointSlice does not name. Status updates (the
// bulk of Pod events) leave the record equal and stop here.

class GatewayAddressSink final : public ProjectionSink {
 public:
  using ProjectionSink::ProjectionSink;

 protected:
  void Apply(const nlohmann::json& object, const std::string& key,
             std::vector<std::string>& keys) override {
    mesh::Diagnostics diagnostics;
    auto address = mesh::DecodeGatewayAddress(object, {context_.cluster, &diagnostics});
    Report(diagnostics);
    if (!address) return Remove(key, keys);
    bool changed = false;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      if (state.AddressOfGateway(address->name) == address->address) return;
      if (state.AddressOfGateway(address->name).empty() && !MayAdd(state)) return;
      state.UpsertGatewayAddress(std::move(*address));
      changed = true;
    });
    ReportRefused();
    stored_.insert(key);  // Remove() of an unstored name changes nothing
    if (changed) AddClusterKeys(context_, keys);
  }

  void Remove(const std::string& key, std::vector<std::string>& keys) override {
    if (!stored_.erase(key)) return;
    context_.store->Update(context_.cluster, [&](mesh::ClusterState& state) {
      state.RemoveGatewayAddress(std::string(kube::SplitObjectKey(key).name));
    });
    AddClusterKeys(context_, keys);
  }

  std::vector<std::string> StoredKeys() override { return {stored_.begin(), stored_.end()}; }

 private:
  std::unordered_set<std::string> stored_;
};

}  // namespace

std::unique_ptr<ProjectionSink> MakeNodeSink(SinkContext context) {
  return std::make_unique<NodeSink>(std::move(context));
}

std::unique_ptr<ProjectionSink> MakeGatewaySink(SinkContext context) {
  return std::make_unique<GatewaySink>(std::move(context));
}

std::unique_ptr<ProjectionSink> MakeSegmentSink(SinkContext context) {
  return std::make_unique<SegmentSink>(std::move(context));
}

std::unique_ptr<ProjectionSink> MakeGatewayAddressSink(SinkContext context) {
  return std::make_unique<GatewayAddressSink>(std::move(context));
}

}  // namespace globalsvc::controller
