#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"

namespace globalsvc::cli {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = GLOBALSVC_SOURCE_DIR;
const fs::path kGuide = kSource / "test/fixtures/guide";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome Plan(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int code = RunPlan(args, {out, err});
  return {code, out.str(), err.str()};
}

// A scratch snapshot folder removed at the end of the test.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    path = fs::temp_directory_path() /
           ("globalsvc-plan-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
  void Write(const std::string& relative, const std::string& text) const {
    fs::create_directories((path / relative).parent_path());
    std::ofstream(path / relative, std::ios::binary) << text;
  }
  static inline int counter = 0;
};

TEST_CASE("plan --shape inline reproduces the guide's golden ServiceEntries byte for byte",
          "[cli][plan]") {
  for (const char* cluster : {"cluster1", "cluster2"}) {
    INFO(cluster);
    const Outcome result =
        Plan({"-f", (kGuide / "snapshot").string(), "--cluster", cluster, "--shape", "inline"});
    CHECK(result.code == kExitOk);
    CHECK(result.err.empty());
    CHECK(result.out == ReadFile(kGuide / "expected" / (std::string(cluster) + ".yaml")));
  }
}

TEST_CASE(
    "plan prints the guide's objects for upstream istiod (the workload-entries shape, "
    "the default)",
    "[cli][plan]") {
  for (const char* cluster : {"cluster1", "cluster2"}) {
    INFO(cluster);
    const Outcome result = Plan({"-f", (kGuide / "snapshot").string(), "--cluster", cluster,
                                 "--shape", "workload-entries"});
    CHECK(result.code == kExitOk);
    CHECK(result.err.empty());
    CHECK(result.out ==
          ReadFile(kGuide / "expected" / (std::string(cluster) + ".workload-entries.yaml")));
    const Outcome by_default = Plan({"-f", (kGuide / "snapshot").string(), "--cluster", cluster});
    CHECK(by_default.out == result.out);
  }
  // As JSON: a ServiceEntry, its WorkloadEntries, one peer Gateway.
  const Outcome json =
      Plan({"-f", (kGuide / "snapshot").string(), "--cluster", "cluster1", "--shape",
            "workload-entries", "-o", "json", "--trust-domain", "example.org"});
  REQUIRE(json.code == kExitOk);
  const auto list = nlohmann::json::parse(json.out);
  std::vector<std::string> kinds;
  for (const auto& item : list["items"])
    kinds.push_back(item["kind"].get<std::string>());
  CHECK(kinds == std::vector<std::string>{"ServiceEntry", "WorkloadEntry", "WorkloadEntry",
                                          "WorkloadEntry", "Gateway"});
  CHECK(list["items"][0]["spec"]["subjectAltNames"][0] ==
        "spiffe://example.org/ns/httpbin/sa/in-ambient");
}

TEST_CASE("plan refuses an unknown shape", "[cli][plan]") {
  const Outcome result =
      Plan({"-f", (kGuide / "snapshot").string(), "--cluster", "cluster1", "--shape", "solo"});
  CHECK(result.code == kExitUsage);
  CHECK(result.err.find("--shape is inline or workload-entries") != std::string::npos);
}

TEST_CASE("the globalsvc binary prints the same golden output", "[cli][plan]") {
  const std::string command = std::string(GLOBALSVC_BINARY) + " plan -f " +
                              (kGuide / "snapshot").string() + " --cluster cluster1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(output == ReadFile(kGuide / "expected/cluster1.workload-entries.yaml"));
}

TEST_CASE("plan -o json prints a List of the same objects", "[cli][plan]") {
  const Outcome result = Plan({"-f", (kGuide / "snapshot").string(), "--cluster=cluster2", "-o",
                               "json", "--shape", "inline"});
  REQUIRE(result.code == kExitOk);
  const auto list = nlohmann::json::parse(result.out);
  CHECK(list["kind"] == "List");
  REQUIRE(list["items"].size() == 1);
  CHECK(list["items"][0]["metadata"]["name"] == "autogen.httpbin.in-ambient");
}

TEST_CASE("plan for a cluster the snapshot does not hold says UnknownCluster and exits 1",
          "[cli][plan]") {
  const Outcome result =
      Plan({"-f", (kGuide / "snapshot").string(), "--cluster", "no-such-cluster"});
  CHECK(result.code == kExitFindings);
  CHECK(result.err.find("UnknownCluster") != std::string::npos);
  CHECK(result.out.empty());
}

TEST_CASE("plan usage errors exit 2", "[cli][plan]") {
  CHECK(Plan({}).code == kExitUsage);
  CHECK(Plan({"-f", "x"}).code == kExitUsage);
  CHECK(Plan({"--cluster", "c"}).code == kExitUsage);
  CHECK(Plan({"-f", "x", "--cluster", "c", "--bogus"}).code == kExitUsage);
  CHECK(Plan({"-f", "x", "--cluster", "c", "-o", "xml"}).code == kExitUsage);
  CHECK(Plan({"-f"}).code == kExitUsage);
  const Outcome help = Plan({"--help"});
  CHECK(help.code == kExitOk);
  CHECK_THAT(help.out, Catch::StartsWith("Usage: globalsvc plan"));
}

TEST_CASE("plan on a missing or empty folder explains and exits 1", "[cli][plan]") {
  const Outcome missing = Plan({"-f", "/nonexistent/snapshot", "--cluster", "c"});
  CHECK(missing.code == kExitFindings);
  CHECK_THAT(missing.err, Catch::Contains("does not exist"));
  ScratchDir empty;
  const Outcome none = Plan({"-f", empty.path.string(), "--cluster", "c"});
  CHECK(none.code == kExitFindings);
  CHECK_THAT(none.err, Catch::Contains("no cluster folders"));
}

TEST_CASE("a malformed file is reported and everything else is still planned",
          "[cli][plan][bad-input]") {
  ScratchDir dir;
  for (const char* cluster : {"cluster1", "cluster2"}) {
    for (const auto& file : fs::directory_iterator(kGuide / "snapshot" / cluster)) {
      dir.Write(std::string(cluster) + "/" + file.path().filename().string(),
                ReadFile(file.path()));
    }
  }
  dir.Write("cluster2/broken.yaml", "kind: Service\nmetadata: {name: [unclosed\n");
  dir.Write("cluster2/garbage.yaml", "just a string\n---\n- a list\n");
  dir.Write("cluster2/ignored.txt", "not read at all: {{{");
  dir.Write("cluster2/bad-objects.yaml", R"(
apiVersion: v1
kind: Service
metadata: {name: weird, namespace: httpbin, labels: {solo.io/service-scope: sideways}}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: udp-only, namespace: httpbin, labels: {solo.io/service-scope: global}}
spec: {ports: [{name: dns, port: 53, protocol: UDP}]}
---
apiVersion: v1
kind: Service
metadata: {name: v6, namespace: httpbin, labels: {solo.io/service-scope: global}}
spec: {ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
addressType: IPv6
metadata: {name: v6-a, namespace: httpbin, labels: {kubernetes.io/service-name: v6}}
ports: [{name: http, port: 8080}]
endpoints:
- addresses: ["fd00:10:245::7"]
  nodeName: node-1
- addresses: ["not-an-ip"]
)");
  const Outcome result =
      Plan({"-f", dir.path.string(), "--cluster", "cluster1", "--shape", "inline"});
  CHECK(result.code == kExitFindings);  // the unreadable file is an error
  CHECK_THAT(result.err, Catch::Contains("broken.yaml: YAML error at line"));
  CHECK_THAT(result.err, Catch::Contains("a document is not an object"));
  CHECK_THAT(result.err, Catch::Contains("UnknownScope cluster=cluster2 Service httpbin/weird"));
  CHECK_THAT(result.err, Catch::Contains("NoTcpPorts"));
  CHECK_THAT(result.err, Catch::Contains("InvalidAddress"));
  // The guide's service is still planned exactly, and the IPv6 one too.
  CHECK_THAT(result.out, Catch::Contains(ReadFile(kGuide / "expected/cluster1.yaml")));
  CHECK_THAT(result.out, Catch::Contains("name: autogen.httpbin.v6"));
  CHECK_THAT(result.out, Catch::Contains("weight: 1"));
  CHECK_THAT(result.out, !Catch::Contains("weird"));
  CHECK_THAT(result.out, !Catch::Contains("udp-only"));
}

}  // namespace
}  // namespace globalsvc::cli
