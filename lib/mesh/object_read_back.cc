#include "lib/mesh/object_read_back.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "lib/base/json_fields.h"
#include "lib/mesh/istio_objects.h"
#include "lib/mesh/model.h"

namespace globalsvc::mesh {
using nlohmann::json;

bool SelectsWorkloadEntries(const json& service_entry) {
  return FieldAt(service_entry, {"spec", "workloadSelector", "labels", kGlobalServiceLabel}) !=
         nullptr;
}

namespace {

// The endpoint a WorkloadEntry stands for, with only the ServiceEntry's own
// port names: a taken-over Service's named targetPorts are rendered again
// from the plan, and may share a name with one of the ServiceEntry's ports.
ServiceEntryEndpoint EndpointOf(const json& metadata, const json& labels, const json& spec,
                                const std::vector<ServiceEntryPort>& entry_ports) {
  ServiceEntryEndpoint endpoint;
  endpoint.address = StringFieldAt(spec, {"address"});
  endpoint.network = StringFieldAt(spec, {"network"});
  endpoint.locality = StringFieldAt(spec, {"locality"});
  // Signed when read from YAML or written by hand, unsigned from the API.
  if (const json* weight = SetFieldOf(spec, "weight"); weight && weight->is_number_integer()) {
    const auto value = weight->get<std::int64_t>();
    if (value > 0 && value <= std::numeric_limits<std::uint32_t>::max()) {
      endpoint.weight = static_cast<std::uint32_t>(value);
    }
  }
  endpoint.service_account = StringFieldAt(spec, {"serviceAccount"});
  endpoint.cluster = StringFieldAt(labels, {kClusterLabel});
  const json* ports = SetFieldOf(spec, "ports");
  if (!ports || !ports->is_object()) return endpoint;
  std::set<std::string> declared;
  for (const ServiceEntryPort& port : entry_ports)
    declared.insert(port.name);
  if (const json* annotations = SetFieldOf(metadata, "annotations")) {
    for (const std::string& name :
         AnnotationList(StringFieldAt(*annotations, {kTakeoverPortsAnnotation})))
      declared.erase(name);
  }
  for (const auto& [name, number] : ports->items()) {
    if (declared.contains(name) && number.is_number_integer())
      endpoint.ports.emplace_back(name, number.get<std::int32_t>());
  }
  std::sort(endpoint.ports.begin(), endpoint.ports.end());
  return endpoint;
}

}  // namespace

std::vector<ServiceEntry> EntriesFromObjects(const std::vector<json>& service_entries,
                                             const std::vector<json>& workload_entries) {
  std::map<std::string, ServiceEntry> by_key;
  for (const json& object : service_entries) {
    auto entry = ServiceEntryFromJson(object);
    if (!entry || entry->service_namespace.empty() || entry->service_name.empty()) continue;
    // Only the default segment's endpoints are carried over.
    if (!entry->segment.empty()) continue;
    entry->endpoints.clear();  // an inline entry left behind is not of this shape
    std::string key = ServiceKey(entry->service_namespace, entry->service_name);
    by_key.insert_or_assign(std::move(key), std::move(*entry));
  }
  for (const json& object : workload_entries) {
    const json* metadata = SetFieldOf(object, "metadata");
    const json* labels = metadata ? SetFieldOf(*metadata, "labels") : nullptr;
    const json* spec = SetFieldOf(object, "spec");
    if (!labels || !spec) continue;
    if (!StringFieldAt(*labels, {kSegmentObjectLabel}).empty()) continue;
    auto it = by_key.find(ServiceKey(StringFieldAt(*labels, {kParentServiceNamespaceLabel}),
                                     StringFieldAt(*labels, {kParentServiceLabel})));
    if (it == by_key.end()) continue;
    it->second.endpoints.push_back(EndpointOf(*metadata, *labels, *spec, it->second.ports));
  }
  std::vector<ServiceEntry> out;
  out.reserve(by_key.size());
  for (auto& [key, entry] : by_key) {
    std::sort(entry.endpoints.begin(), entry.endpoints.end(), [](const auto& a, const auto& b) {
      return std::tie(a.cluster, a.address, a.network, a.locality) <
             std::tie(b.cluster, b.address, b.network, b.locality);
    });
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace globalsvc::mesh
