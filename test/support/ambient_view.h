#pragma once

// What istiod hands ztunnel, read from its /debug/ambientz: the Services and
// Workloads of a cluster's ambient index, decoded (addresses as text) and
// reduced to the fields tests assert on. This is istiod's own view of the
// objects globalsvc writes, not globalsvc's idea of them.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "test/support/testbed.h"

namespace globalsvc::testsupport {

struct AmbientService {
  std::string name;
  std::string namespace_name;
  std::string hostname;
  std::vector<std::string> vips;  // address text, every network
  std::vector<std::string> subject_alt_names;
  // "MODE pref,pref" from loadBalancing (e.g. "FAILOVER NETWORK,REGION,ZONE"),
  // empty when istiod sets none.
  std::string load_balancing;
  // The waypoint ztunnel sends the service's traffic through: its hostname
  // ("<name>.<ns>.svc.cluster.local") or address text; empty without one.
  std::string waypoint;
  nlohmann::json raw;
};

struct AmbientWorkload {
  std::string uid;
  std::string name;
  std::string namespace_name;
  std::string service_account;
  std::string network;
  std::string cluster_id;
  std::string region;
  std::string zone;
  std::vector<std::string> addresses;  // address text
  std::uint32_t capacity = 1;          // istiod omits the default of 1
  bool has_network_gateway = false;
  std::vector<std::string> services;  // "namespace/hostname"
  nlohmann::json raw;
};

class AmbientView {
 public:
  // Parses the body of /debug/ambientz.
  static Result<AmbientView> Parse(std::string_view body);
  // GET /debug/ambientz from the istiod of `cluster` (scripts/testbed up
  // --istio); an error when the cluster runs no istiod.
  static Result<AmbientView> Read(const TestBed& bed, std::string_view cluster);

  [[nodiscard]] const std::vector<AmbientService>& services() const { return services_; }
  [[nodiscard]] const std::vector<AmbientWorkload>& workloads() const { return workloads_; }
  // The service with this hostname, if istiod has one.
  [[nodiscard]] const AmbientService* Service(std::string_view hostname) const;
  // The workloads that carry the service with this hostname, by uid.
  [[nodiscard]] std::vector<AmbientWorkload> WorkloadsOf(std::string_view hostname) const;

 private:
  std::vector<AmbientService> services_;
  std::vector<AmbientWorkload> workloads_;
};

// One line per workload of the service, sorted, for comparing whole views:
// "<cluster-id> <network> <region>/<zone> <capacity> <gateway|direct>".
std::vector<std::string> WorkloadLines(const AmbientView& view, std::string_view hostname);

// One line per workload with its identity and where it is reached, sorted:
// "<namespace> <service account> <network> <region>/<zone> <capacity> <where>",
// where is the first address, or "gateway" / "unroutable" for an
// address-less workload with or without a resolved network gateway.
std::vector<std::string> IdentityLines(const AmbientView& view, std::string_view hostname);

}  // namespace globalsvc::testsupport
