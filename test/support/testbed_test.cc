// Tests of the test support library: child processes, waiting, and the
// helpers against a real test bed (shared by every case of this process).

#include "test/support/testbed.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace globalsvc::testsupport {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kNamespace = "testsupport";

std::string SampleDeployment() {
  return R"(apiVersion: v1
kind: Namespace
metadata:
  name: testsupport
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
  namespace: testsupport
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: echo
  template:
    metadata:
      labels:
        app.kubernetes.io/name: echo
    spec:
      containers:
      - name: echo
        image: registry.invalid/echo:1
---
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: testsupport
spec:
  selector:
    app.kubernetes.io/name: echo
  ports:
  - port: 80
)";
}

TEST_CASE("RunCommand collects output, exit code and stdin", "[support]") {
  CommandOptions with_stdin;
  with_stdin.stdin_text = "hello\n";
  const CommandResult echo = RunCommand({"sh", "-c", "cat; echo err >&2; exit 3"}, with_stdin);
  CHECK(echo.exit_code == 3);
  CHECK(echo.out == "hello\n");
  CHECK(echo.err == "err\n");

  CommandOptions with_env;
  with_env.env["TESTSUPPORT_VALUE"] = "42";
  CHECK(RunCommand({"sh", "-c", "printf %s \"$TESTSUPPORT_VALUE\""}, with_env).out == "42");
}

TEST_CASE("RunCommand kills a command at its timeout", "[support]") {
  CommandOptions options;
  options.timeout = milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  const CommandResult result = RunCommand({"sleep", "30"}, options);
  CHECK(result.timed_out);
  CHECK_FALSE(result.ok());
  CHECK(std::chrono::steady_clock::now() - start < seconds(10));
}

TEST_CASE("WaitFor returns once the condition holds and reports why it gave up", "[support]") {
  int calls = 0;
  CHECK(WaitFor(
            "third call", seconds(10), [&](std::string*) { return ++calls == 3; }, milliseconds(1))
            .ok());
  CHECK(calls == 3);

  const Status timed_out = WaitFor(
      "never", milliseconds(50),
      [](std::string* why) {
        *why = "still false";
        return false;
      },
      milliseconds(5));
  REQUIRE_FALSE(timed_out.ok());
  CHECK(timed_out.error().message.find("never: still false") != std::string::npos);
}

TEST_CASE("WaitFor polls on when its check throws, and says what it threw", "[support]") {
  // A live object read half-written (created, its status not yet there)
  // makes a JSON check throw: that is "not yet", not the end of the test.
  int calls = 0;
  CHECK(WaitFor(
            "a status", seconds(10),
            [&](std::string*) {
              nlohmann::json object = {{"metadata", {{"name", "x"}}}};
              if (++calls >= 3) object["status"] = {{"endpoints", 4}};
              return object["status"].value("endpoints", 0) == 4;  // throws on null
            },
            milliseconds(1))
            .ok());
  CHECK(calls == 3);

  const Status timed_out = WaitFor(
      "never", milliseconds(50),
      [](std::string*) -> bool { throw std::runtime_error("half-written"); }, milliseconds(5));
  REQUIRE_FALSE(timed_out.ok());
  CHECK(timed_out.error().message.find("never: the check threw: half-written") !=
        std::string::npos);
}

TEST_CASE("The shared test bed serves its clusters", "[support][testbed]") {
  Result<TestBed*> shared = TestBed::Shared(2);
  REQUIRE(shared.ok());
  const TestBed& bed = **shared;
  REQUIRE(bed.clusters().size() >= 2);
  const std::string cluster = bed.clusters().front();
  CHECK(bed.ApiServerUrl(cluster).starts_with("https://127.0.0.1:"));
  CHECK_FALSE(bed.ClusterValue(cluster, "REGION").empty());

  Result<nlohmann::json> nodes = bed.GetJson(cluster, {"nodes"});
  REQUIRE(nodes.ok());
  CHECK_FALSE((*nodes)["items"].empty());

  Result<nlohmann::json> missing = bed.GetJson(cluster, {"namespace", "does-not-exist"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
}

TEST_CASE("Apply, scale and wait on a Deployment", "[support][testbed]") {
  Result<TestBed*> shared = TestBed::Shared(2);
  REQUIRE(shared.ok());
  const TestBed& bed = **shared;
  const std::string cluster = bed.clusters().front();

  REQUIRE(bed.Apply(cluster, SampleDeployment()).ok());
  REQUIRE(bed.WaitForReadyReplicas(cluster, kNamespace, "echo", 1, seconds(60)).ok());
  REQUIRE(bed.Scale(cluster, kNamespace, "echo", 3).ok());
  REQUIRE(bed.WaitForReadyReplicas(cluster, kNamespace, "echo", 3, seconds(60)).ok());
  REQUIRE(bed.WaitForServiceEndpoints(cluster, kNamespace, "echo", 3, seconds(60)).ok());
  // A count the slices do not hold times out and says what they hold.
  const Status wrong = bed.WaitForServiceEndpoints(cluster, kNamespace, "echo", 2, seconds(2));
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message.find("ready 3, not ready or terminating 0") != std::string::npos);
  REQUIRE(bed.Scale(cluster, kNamespace, "echo", 0).ok());
  REQUIRE(bed.WaitForReadyReplicas(cluster, kNamespace, "echo", 0, seconds(60)).ok());
  REQUIRE(bed.WaitForServiceEndpoints(cluster, kNamespace, "echo", 0, seconds(60)).ok());
  CHECK(bed.Delete(cluster, SampleDeployment()).ok());
}

TEST_CASE("Restarting an API server keeps its data", "[support][testbed]") {
  Result<TestBed*> shared = TestBed::Shared(2);
  REQUIRE(shared.ok());
  const TestBed& bed = **shared;
  const std::string cluster = bed.clusters().back();
  const std::string config_map = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: testsupport-restart
  namespace: default
data:
  kept: "yes"
)";
  REQUIRE(bed.Apply(cluster, config_map).ok());

  REQUIRE(bed.StopComponent(cluster, Component::kApiServer, /*kill=*/true).ok());
  CHECK_FALSE(bed.Kubectl(cluster, {"get", "--raw", "/readyz", "--request-timeout", "2s"}).ok());
  REQUIRE(bed.StartComponent(cluster, Component::kApiServer).ok());

  REQUIRE(bed.RestartComponent(cluster, Component::kEtcd).ok());
  // The API server reconnects to the restarted etcd by itself.
  const Status readable =
      WaitFor("the ConfigMap after restarts", seconds(60), [&](std::string* why) {
        Result<nlohmann::json> object =
            bed.GetJson(cluster, {"configmap", "-n", "default", "testsupport-restart"});
        if (!object) *why = object.error().message;
        return object.ok() && (*object)["data"]["kept"] == "yes";
      });
  INFO((readable.ok() ? std::string() : readable.error().message));
  CHECK(readable.ok());
  CHECK(bed.Delete(cluster, config_map).ok());
}

}  // namespace
}  // namespace globalsvc::testsupport
