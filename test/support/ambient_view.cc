#include "test/support/ambient_view.h"

#include <algorithm>

#include "lib/kube/pem.h"

namespace globalsvc::testsupport {
namespace {

using nlohmann::json;

std::string StringAt(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// ambientz prints addresses as base64 of their text.
std::string DecodedAddress(const json& value) {
  if (!value.is_string()) return {};
  auto text = kube::DecodeBase64(value.get<std::string>());
  return text ? *text : value.get<std::string>();
}

std::vector<std::string> Strings(const json& object, const char* key) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return out;
  for (const auto& item : *it)
    if (item.is_string()) out.push_back(item.get<std::string>());
  return out;
}

AmbientService ServiceFrom(const json& s) {
  AmbientService service;
  service.name = StringAt(s, "name");
  service.namespace_name = StringAt(s, "namespace");
  service.hostname = StringAt(s, "hostname");
  if (auto it = s.find("addresses"); it != s.end() && it->is_array()) {
    for (const auto& address : *it)
      if (address.is_object() && address.contains("address"))
        service.vips.push_back(DecodedAddress(address["address"]));
  }
  service.subject_alt_names = Strings(s, "subjectAltNames");
  if (auto it = s.find("waypoint"); it != s.end() && it->is_object()) {
    if (auto host = it->find("hostname"); host != it->end() && host->is_object()) {
      service.waypoint = StringAt(*host, "hostname");
    } else if (auto address = it->find("address"); address != it->end() && address->is_object()) {
      service.waypoint = DecodedAddress((*address)["address"]);
    }
  }
  if (auto it = s.find("loadBalancing"); it != s.end() && it->is_object()) {
    std::string preferences;
    for (const auto& preference : Strings(*it, "routingPreference"))
      preferences += (preferences.empty() ? "" : ",") + preference;
    service.load_balancing = StringAt(*it, "mode");
    if (!preferences.empty()) service.load_balancing += " " + preferences;
  }
  service.raw = s;
  return service;
}

AmbientWorkload WorkloadFrom(const json& w) {
  AmbientWorkload workload;
  workload.uid = StringAt(w, "uid");
  workload.name = StringAt(w, "name");
  workload.namespace_name = StringAt(w, "namespace");
  workload.service_account = StringAt(w, "serviceAccount");
  workload.network = StringAt(w, "network");
  workload.cluster_id = StringAt(w, "clusterId");
  if (auto it = w.find("locality"); it != w.end() && it->is_object()) {
    workload.region = StringAt(*it, "region");
    workload.zone = StringAt(*it, "zone");
  }
  if (auto it = w.find("addresses"); it != w.end() && it->is_array()) {
    for (const auto& address : *it)
      workload.addresses.push_back(DecodedAddress(address));
  }
  if (auto it = w.find("capacity"); it != w.end() && it->is_number_unsigned()) {
    workload.capacity = it->get<std::uint32_t>();
  }
  if (auto it = w.find("networkGateway"); it != w.end() && !it->is_null()) {
    workload.has_network_gateway = true;
  }
  if (auto it = w.find("services"); it != w.end() && it->is_object()) {
    for (const auto& [key, value] : it->items())
      workload.services.push_back(key);
  }
  workload.raw = w;
  return workload;
}

}  // namespace

Result<AmbientView> AmbientView::Parse(std::string_view body) {
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    return MakeError(ErrorCode::kInvalidInput, "ambientz: not a JSON object");
  }
  AmbientView view;
  if (auto it = parsed.find("services"); it != parsed.end() && it->is_array()) {
    for (const auto& s : *it)
      if (s.is_object()) view.services_.push_back(ServiceFrom(s));
  }
  if (auto it = parsed.find("workloads"); it != parsed.end() && it->is_array()) {
    for (const auto& w : *it)
      if (w.is_object()) view.workloads_.push_back(WorkloadFrom(w));
  }
  return view;
}

Result<AmbientView> AmbientView::Read(const TestBed& bed, std::string_view cluster) {
  const std::string port = bed.ClusterValue(cluster, "ISTIOD_HTTP_PORT");
  if (port.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     std::string(cluster) +
                         " runs no istiod: start the test bed with scripts/testbed up --istio");
  }
  const CommandResult got = RunCommand(
      {"curl", "-sSf", "--max-time", "10", "http://127.0.0.1:" + port + "/debug/ambientz"});
  if (!got.ok()) {
    return MakeError(ErrorCode::kUnavailable,
                     "GET /debug/ambientz of " + std::string(cluster) + ": " + got.err);
  }
  return Parse(got.out);
}

const AmbientService* AmbientView::Service(std::string_view hostname) const {
  for (const auto& service : services_)
    if (service.hostname == hostname) return &service;
  return nullptr;
}

std::vector<AmbientWorkload> AmbientView::WorkloadsOf(std::string_view hostname) const {
  const AmbientService* service = Service(hostname);
  if (service == nullptr) return {};
  const std::string key = service->namespace_name + "/" + std::string(hostname);
  std::vector<AmbientWorkload> out;
  for (const auto& workload : workloads_) {
    if (std::find(workload.services.begin(), workload.services.end(), key) !=
        workload.services.end())
      out.push_back(workload);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
  return out;
}

std::vector<std::string> WorkloadLines(const AmbientView& view, std::string_view hostname) {
  std::vector<std::string> lines;
  for (const auto& w : view.WorkloadsOf(hostname)) {
    // A workload without an address is reached through its network's gateway.
    lines.push_back(w.cluster_id + " " + w.network + " " + w.region + "/" + w.zone + " " +
                    std::to_string(w.capacity) + " " +
                    (w.addresses.empty() ? "gateway" : "direct"));
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::vector<std::string> IdentityLines(const AmbientView& view, std::string_view hostname) {
  std::vector<std::string> lines;
  for (const auto& w : view.WorkloadsOf(hostname)) {
    const std::string where = w.addresses.empty()
                                  ? (w.has_network_gateway ? "gateway" : "unroutable")
                                  : w.addresses.front();
    lines.push_back(w.namespace_name + " " + w.service_account + " " + w.network + " " + w.region +
                    "/" + w.zone + " " + std::to_string(w.capacity) + " " + where);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

}  // namespace globalsvc::testsupport
