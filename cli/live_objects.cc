#include "cli/live_objects.h"

#include <map>
#include <sstream>

#include "lib/base/json_fields.h"
#include "lib/kube/kube_client.h"
#include "lib/kube/kubeconfig.h"
#include "lib/mesh/istio_objects.h"
#include "lib/mesh/model.h"
#include "lib/mesh/object_read_back.h"

namespace globalsvc::cli {
namespace {

const kube::ResourceType& DestinationRules() {
  static const kube::ResourceType type{"networking.istio.io", "v1", "destinationrules", true};
  return type;
}

std::vector<std::string> SplitPaths(const std::vector<std::string>& lists) {
  std::vector<std::string> paths;
  for (const auto& list : lists) {
    std::stringstream parts(list);
    std::string path;
    while (std::getline(parts, path, ':')) {
      if (!path.empty()) paths.push_back(path);
    }
  }
  return paths;
}

const kube::ResourceType& Pods() {
  static const kube::ResourceType type{"", "v1", "pods", true};
  return type;
}

// Any object, as read from a server or a file: a field of the wrong type reads as absent.
std::string Label(const nlohmann::json& object, std::string_view key) {
  return StringFieldAt(object, {"metadata", "labels", key});
}

}  // namespace

Result<failover::ClientLocation> LocatePod(const std::vector<std::string>& kubeconfigs,
                                           const std::string& context, const std::string& pod) {
  const auto slash = pod.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == pod.size()) {
    return MakeError(ErrorCode::kInvalidInput, "--from-pod takes NAMESPACE/POD, not '" + pod + "'");
  }
  const std::vector<std::string> paths = SplitPaths(kubeconfigs);
  auto config =
      paths.empty() ? kube::LoadKubeconfig("", context) : kube::LoadKubeconfigFiles(paths, context);
  if (!config.ok()) return config.error();
  auto client = kube::KubeClient::Create(*config);
  if (!client.ok()) return client.error();
  auto found = (*client)->Get(Pods(), pod.substr(0, slash), pod.substr(slash + 1));
  if (!found.ok()) return found.error();
  const std::string node_name =
      found->contains("spec") ? (*found)["spec"].value("nodeName", "") : std::string();
  if (node_name.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "pod " + pod + " is not scheduled on a node yet");
  }
  auto node = (*client)->Get(kube::resources::Nodes(), "", node_name);
  if (!node.ok()) return node.error();
  failover::ClientLocation location;
  location.cluster = context.empty() ? config->name : context;
  location.locality.region = Label(*node, mesh::kRegionLabel);
  location.locality.zone = Label(*node, mesh::kZoneLabel);
  location.locality.subzone = Label(*node, mesh::kSubzoneLabel);
  if (location.locality.zone.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "node " + node_name + " of pod " + pod + " has no " +
                                                   mesh::kZoneLabel +
                                                   " label; use --from CLUSTER/ZONE");
  }
  return location;
}

void InlineWorkloadEntryShape(std::vector<failover::SourcedObject>& objects) {
  struct Shape {
    std::vector<nlohmann::json> service_entries;
    std::vector<nlohmann::json> workload_entries;
    std::string source;
  };
  std::map<std::string, Shape> by_cluster;
  std::vector<failover::SourcedObject> kept;
  kept.reserve(objects.size());
  for (auto& sourced : objects) {
    const std::string kind = StringFieldAt(sourced.object, {"kind"});
    const bool ours = Label(sourced.object, mesh::kManagedByLabel) == mesh::kManagedByValue;
    if (ours && kind == "ServiceEntry" && mesh::SelectsWorkloadEntries(sourced.object)) {
      Shape& shape = by_cluster[sourced.cluster];
      shape.service_entries.push_back(std::move(sourced.object));
      if (shape.source.empty()) shape.source = sourced.source;
    } else if (ours && kind == "WorkloadEntry") {
      by_cluster[sourced.cluster].workload_entries.push_back(std::move(sourced.object));
    } else {
      kept.push_back(std::move(sourced));
    }
  }
  for (const auto& [cluster, shape] : by_cluster) {
    for (auto& entry : mesh::EntriesFromObjects(shape.service_entries, shape.workload_entries)) {
      kept.push_back({cluster, shape.source + " (with its WorkloadEntries)", mesh::ToJson(entry)});
    }
  }
  objects = std::move(kept);
}

namespace {

struct Read {
  const kube::ResourceType& type;
  std::string namespace_name;
  bool owned = false;  // only globalsvc's objects
};

// What one cluster's list of `read` adds to `objects`.
Status AppendListed(kube::KubeClient& client, const Read& read, const std::string& cluster,
                    std::vector<failover::SourcedObject>& objects) {
  kube::ListOptions options;
  if (read.owned) {
    options.label_selector = std::string(mesh::kManagedByLabel) + "=" + mesh::kManagedByValue;
  }
  auto listed = client.List(read.type, read.namespace_name, options);
  if (!listed.ok()) return listed.error();
  const std::string kind_list = read.type.plural;
  const bool shape_entries = read.owned && &read.type == &kube::resources::ServiceEntries();
  for (auto& item : listed->items) {
    // Each ServiceEntry once: the shape's from the owned read only.
    if (&read.type == &kube::resources::ServiceEntries() &&
        mesh::SelectsWorkloadEntries(item) != shape_entries) {
      continue;
    }
    // Lists from the API server carry no kind on their items.
    if (!item.contains("apiVersion")) item["apiVersion"] = read.type.ApiVersion();
    if (!item.contains("kind")) {
      static const std::map<std::string, std::string> kKinds = {
          {"serviceentries", "ServiceEntry"},
          {"workloadentries", "WorkloadEntry"},
          {"destinationrules", "DestinationRule"},
          {"services", "Service"},
          {"nodes", "Node"},
          {"deployments", "Deployment"}};
      item["kind"] = kKinds.at(kind_list);
    }
    failover::AppendObjects(item, cluster, "cluster " + cluster + " (" + kind_list + ")", objects);
  }
  return Ok{};
}

}  // namespace

Result<std::vector<failover::SourcedObject>> LoadLiveObjects(
    const std::vector<std::string>& kubeconfigs, const std::vector<std::string>& contexts,
    const std::string& control_plane_namespace) {
  const std::vector<std::string> paths = SplitPaths(kubeconfigs);
  std::vector<std::string> wanted = contexts;
  if (wanted.empty()) wanted.push_back("");  // the current context
  // globalsvc's ServiceEntries of the WorkloadEntry shape live in the
  // Services' namespaces: read in every namespace with their WorkloadEntries
  // (InlineWorkloadEntryShape joins them), the others in the control plane's.
  const Read reads[] = {
      {kube::resources::ServiceEntries(), control_plane_namespace},
      {kube::resources::ServiceEntries(), "", true},
      {kube::resources::WorkloadEntries(), "", true},
      {DestinationRules(), ""},
      {kube::resources::Services(), ""},
      {kube::resources::Nodes(), ""},
      {kube::resources::Deployments(), control_plane_namespace},
  };
  std::vector<failover::SourcedObject> objects;
  for (const std::string& context : wanted) {
    auto config = paths.empty() ? kube::LoadKubeconfig("", context)
                                : kube::LoadKubeconfigFiles(paths, context);
    if (!config.ok()) return config.error();
    const std::string cluster = context.empty() ? config->name : context;
    auto client = kube::KubeClient::Create(*config);
    if (!client.ok()) return client.error();
    for (const Read& read : reads) {
      if (auto appended = AppendListed(**client, read, cluster, objects); !appended.ok()) {
        return appended.error();
      }
    }
  }
  return objects;
}

}  // namespace globalsvc::cli
