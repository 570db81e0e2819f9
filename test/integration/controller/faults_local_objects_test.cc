// Faults: bad objects in the local cluster (an unknown scope, UDP only, a
// name at the length limit) are reported and harm nothing.

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test/integration/controller/faults_world.h"

namespace globalsvc::controller::faults {
namespace {

TEST_CASE("Bad objects in the local cluster", "[controller][faults][testbed]") {
  World& world = GetWorld();
  const TestBed& bed = *world.bed;
  StartClean(world);
  const std::string long_name = "faults-" + std::string(63 - 7, 'n');
  REQUIRE(long_name.size() == 63);
  const std::string services = R"(
apiVersion: v1
kind: Service
metadata:
  name: faults-unknown-scope
  namespace: default
  labels: {solo.io/service-scope: worldwide}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: faults-udp-only
  namespace: default
  labels: {solo.io/service-scope: global}
spec:
  ports: [{name: dns, port: 53, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata:
  name: )" + long_name + R"(
  namespace: default
  labels: {solo.io/service-scope: global}
spec:
  ports: [{name: http, port: 80}]
)";
  auto started = StartController(world, "faults-objects", "globalsvc-faults-objects");
  REQUIRE_OK(StatusOf(started));
  ControllerProcess& controller = **started;
  REQUIRE_OK(WaitForEndpoints(bed, "cluster1", kLocalView));
  REQUIRE_OK(bed.Apply("cluster1", services));

  // Unknown scope: not exported, a Warning Event on the Service.
  CHECK_OK(WaitFor("UnknownScope Event", 30s, [&](std::string*) {
    return HasWarningEvent(bed, "cluster1", "default", "Service", "faults-unknown-scope",
                           "UnknownScope");
  }));
  CHECK(controller.MetricOr0("globalsvc_diagnostics_total", {{"code", "UnknownScope"}}) >= 1);
  CHECK_FALSE(GetServiceEntry(bed, "cluster1", "autogen.default.faults-unknown-scope"));

  // UDP only: reported, no ServiceEntry.
  CHECK_OK(WaitFor("NoTcpPorts Event", 30s, [&](std::string*) {
    return HasWarningEvent(bed, "cluster1", "default", "Service", "faults-udp-only", "NoTcpPorts");
  }));
  CHECK_FALSE(GetServiceEntry(bed, "cluster1", "autogen.default.faults-udp-only"));

  // A name at the 63-character limit: the ServiceEntry carries it whole.
  const std::string long_entry = "autogen.default." + long_name;
  std::optional<nlohmann::json> entry;
  CHECK_OK(WaitFor("ServiceEntry " + long_entry, 30s, [&](std::string*) {
    entry = GetServiceEntry(bed, "cluster1", long_entry);
    return entry.has_value();
  }));
  if (entry) {
    CHECK((*entry)["spec"]["hosts"] ==
          nlohmann::json::array({long_name + ".default.mesh.internal"}));
    CHECK((*entry)["metadata"]["labels"]["solo.io/parent-service"] == long_name);
    CHECK(EndpointLines(*entry).empty());
  }
  // The guide's service is untouched by all this.
  CHECK_OK(WaitForEndpoints(bed, "cluster1", kLocalView));

  REQUIRE_OK(bed.Delete("cluster1", services));
  CHECK_OK(WaitFor(long_entry + " removed", 30s,
                   [&](std::string*) { return !GetServiceEntry(bed, "cluster1", long_entry); }));
  INFO("controller log (last lines):\n" << controller.Tail());
  REQUIRE(controller.Running());
  StopAndCheckLog(world, controller);
}

}  // namespace
}  // namespace globalsvc::controller::faults
