#pragma once

// Reflector sinks that keep one cluster's part of the MeshStore equal to what
// its API server holds, one sink per watched resource. Each change is decoded
// into the planner's lean records; when the record did not change (a Node
// heartbeat, a Service status update) nothing else happens, otherwise the
// ServiceEntry keys it affects are handed to `on_keys`.
//
// A Service the cluster is known not to export (its label, or its known
// Namespace's) is kept dormant, as a name only, and so are its slices: most
// Services of a cluster are not global and cost nothing else. When a label
// change may export it, the sinks ask for a relist (`on_relist`); until it
// brings the full records, the planner treats the cluster as before.
//
// Threads: each sink is driven by its reflector's thread only. The store has
// its own lock.

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "controller/mesh_store.h"
#include "controller/namespace_filter.h"
#include "lib/kube/reflector_sink.h"
#include "lib/mesh/diagnostic.h"
#include "lib/mesh/model.h"

namespace globalsvc::controller {

using KeysCallback = std::function<void(std::vector<std::string> keys)>;
using DiagnosticsCallback = std::function<void(const mesh::Diagnostics& diagnostics)>;

struct SinkContext {
  std::string cluster;
  std::string control_plane_namespace = mesh::kDefaultControlPlaneNamespace;
  std::string network_override;  // when set, the namespace label is not used
  MeshStore* store = nullptr;
  KeysCallback on_keys;
  DiagnosticsCallback on_diagnostics;  // problems decoding objects
  // The most records of every kind the cluster may hold here (0: no limit):
  // whoever controls a remote cannot make this controller keep, or write
  // ServiceEntries for, more than this. Updates of held records always apply.
  std::size_t max_objects = 0;
  // Services and EndpointSlices of other namespaces are not kept.
  NamespaceFilter namespaces;
  // Asks for the cluster's Services and EndpointSlices to be listed again: a
  // record kept dormant (not exported, so only its name was kept) may now be
  // exported and needs what was dropped.
  std::function<void()> on_relist;
};

class ProjectionSink : public kube::ReflectorSink {
 public:
  explicit ProjectionSink(SinkContext context) : context_(std::move(context)) {}

  void BeginReplace() override;
  void ReplaceItem(nlohmann::json&& object) override;
  void EndReplace() override;
  void AbortReplace() override;
  void ApplyEvent(kube::WatchEventType type, nlohmann::json&& object) override;

  // True once a full list has been applied.
  [[nodiscard]] bool synced() const { return synced_.load(); }

 protected:
  // Decodes and stores the object (or removes it when it no longer decodes
  // into a record), adding affected ServiceEntry keys to `keys`.
  virtual void Apply(const nlohmann::json& object, const std::string& key,
                     std::vector<std::string>& keys) = 0;
  virtual void Remove(const std::string& key, std::vector<std::string>& keys) = 0;
  // Keys (as kube::ObjectKey) of every stored record of this resource.
  virtual std::vector<std::string> StoredKeys() = 0;

  void Report(const mesh::Diagnostics& diagnostics) const;
  void Emit(std::vector<std::string> keys) const;
  // False for an object (by its "namespace/name" key) of a namespace the
  // cluster's NamespaceFilter refuses: it is removed, never stored.
  [[nodiscard]] bool Admitted(const std::string& key) const;
  // Called under the store's lock before a new record is stored: false (and
  // counted) when the cluster holds max_objects records already.
  [[nodiscard]] bool MayAdd(const mesh::ClusterState& state);
  // Reports the refusals counted since the last report (outside the lock).
  void ReportRefused();
  void RequestRelist() const;

  SinkContext context_;

 private:
  std::unordered_set<std::string> listed_;
  std::atomic<bool> synced_{false};
  std::size_t refused_ = 0;           // new records refused, not yet reported
  std::size_t refused_reported_ = 0;  // in total, to report every 1000th
};

std::unique_ptr<ProjectionSink> MakeServiceSink(SinkContext context);
std::unique_ptr<ProjectionSink> MakeNamespaceSink(SinkContext context);
std::unique_ptr<ProjectionSink> MakeEndpointSliceSink(SinkContext context);
std::unique_ptr<ProjectionSink> MakeNodeSink(SinkContext context);
std::unique_ptr<ProjectionSink> MakeGatewaySink(SinkContext context);
// The cluster's Segments (globalsvc.io), in the control-plane namespace.
std::unique_ptr<ProjectionSink> MakeSegmentSink(SinkContext context);
// Pods' service accounts and the east-west gateways' Service addresses: read
// only for the WorkloadEntry shape.
std::unique_ptr<ProjectionSink> MakePodSink(SinkContext context);
std::unique_ptr<ProjectionSink> MakeGatewayAddressSink(SinkContext context);

}  // namespace globalsvc::controller
