// globalsvc explain and lint run in-process on the fixture files.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"

namespace globalsvc::cli {
namespace {

const std::string kFixtures = std::string(GLOBALSVC_SOURCE_DIR) + "/test/fixtures/explain";
const std::string kHost = "in-ambient.httpbin.mesh.internal";

struct Run {
  int code = 0;
  std::string out;
  std::string err;
};

Run Invoke(int (*command)(const std::vector<std::string>&, CommandIo),
           const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = command(args, CommandIo{out, err});
  return {code, out.str(), err.str()};
}

Run Explain(const std::vector<std::string>& args) {
  return Invoke(RunExplain, args);
}
Run LintFiles(const std::vector<std::string>& args) {
  return Invoke(RunLint, args);
}

std::vector<std::string> GuideArgs(std::vector<std::string> extra) {
  std::vector<std::string> args = {kHost, "--from", "cluster1/us-east-1a", "-f",
                                   kFixtures + "/guide"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST_CASE("explain prints the ranked groups of the guide topology", "[cli][explain]") {
  const Run run = Explain(GuideArgs({}));
  REQUIRE(run.code == kExitOk);
  CHECK_THAT(run.out,
             Catch::Contains("ServiceEntry:  cluster1: istio-system/autogen.httpbin.in-ambient"));
  CHECK_THAT(run.out, Catch::Contains("routing preference [NETWORK, REGION, ZONE]"));
  CHECK_THAT(run.out, Catch::Contains("1      5     10.244.0.5         cluster1  cluster1-network  "
                                      "us-east-1/us-east-1a  1       100.0%"));
  CHECK_THAT(run.out, Catch::Contains("2      4     10.244.1.8"));
  CHECK_THAT(run.out, Catch::Contains("3      0     gateway(cluster2)  cluster2  cluster2-network  "
                                      "us-west-2/us-west-2a  2       0.0%"));
  CHECK_THAT(run.out, Catch::Contains("> 10.245.1.4"));
}

TEST_CASE("explain reads the WorkloadEntry shape from files as it ranks the inline one",
          "[cli][explain]") {
  // plan's golden output for cluster1 in both shapes, with its Nodes.
  const std::string guide = std::string(GLOBALSVC_SOURCE_DIR) + "/test/fixtures/guide";
  auto ranked = [&](const std::string& file) {
    return Explain({kHost, "--from", "cluster1/us-east-1a", "-f",
                    "cluster1=" + guide + "/expected/" + file, "-f",
                    "cluster1=" + guide + "/snapshot/cluster1/nodes.yaml"});
  };
  const Run inline_shape = ranked("cluster1.yaml");
  const Run workload_entries = ranked("cluster1.workload-entries.yaml");
  REQUIRE(inline_shape.code == kExitOk);
  REQUIRE(workload_entries.code == kExitOk);
  // The same ranking; the ServiceEntry is where that shape keeps it.
  CHECK_THAT(workload_entries.out,
             Catch::Contains("ServiceEntry:  cluster1: httpbin/autogen.httpbin.in-ambient"));
  std::string moved = inline_shape.out;
  const std::string from = "cluster1: istio-system/autogen";
  REQUIRE(moved.find(from) != std::string::npos);
  moved.replace(moved.find(from), from.size(), "cluster1: httpbin/autogen");
  CHECK(workload_entries.out == moved);
  CHECK_THAT(workload_entries.out,
             Catch::Contains("3      0     gateway(cluster2)  cluster2  cluster2-network  "
                             "us-west-2/us-west-2a  2       0.0%"));
}

TEST_CASE("explain --l7 with the guide's rule and cluster1 down", "[cli][explain]") {
  const Run run =
      Explain(GuideArgs({"-f", kFixtures + "/destinationrule-zone-region.yaml", "--l7", "--down",
                         "cluster=cluster1", "--requests", "10", "--seed", "3"}));
  REQUIRE(run.code == kExitOk);
  CHECK_THAT(run.out, Catch::Contains("failoverPriority [topology.kubernetes.io/zone, "
                                      "topology.kubernetes.io/region]"));
  // Upstream istiod gives the waypoint none of cluster2's endpoints: with
  // cluster1 down, requests through the waypoint fail.
  CHECK_THAT(run.out, Catch::Contains("cluster1  us-east-1/us-east-1a  cluster=cluster1"));
  CHECK_THAT(run.out,
             Catch::Contains("gateway(cluster2)  cluster2  us-west-2/us-west-2a  on network "
                             "cluster2-network: upstream istiod gives a waypoint none"));
  CHECK_THAT(run.out, Catch::Contains("no endpoint is left: requests fail"));
  CHECK_THAT(run.out, !Catch::Contains("(cluster2 via gateway)"));
}

TEST_CASE("explain's sample is reproducible and counted like uniq -c", "[cli][explain]") {
  const auto args = GuideArgs({"--down", "zone=us-east-1a", "--requests", "10"});
  const Run first = Explain(args);
  const Run again = Explain(args);
  REQUIRE(first.code == kExitOk);
  CHECK(first.out == again.out);
  CHECK_THAT(first.out, Catch::Contains("     10 10.244.1.8 (cluster1)\n"));

  const auto mixed = GuideArgs({"--network", "elsewhere", "--requests", "200", "--seed", "9"});
  CHECK(Explain(mixed).out == Explain(mixed).out);
}

TEST_CASE("explain -o json", "[cli][explain]") {
  const Run run = Explain(GuideArgs({"-o", "json", "--down", "cluster=cluster1"}));
  REQUIRE(run.code == kExitOk);
  const auto json = nlohmann::json::parse(run.out);
  CHECK(json["client"]["network"] == "cluster1-network");
  CHECK(json["client"]["locality"] == "us-east-1/us-east-1a");
  REQUIRE(json["groups"].size() == 1);
  CHECK(json["groups"][0]["endpoints"][0]["endpoint"] == "gateway(cluster2)");
  CHECK(json["groups"][0]["endpoints"][0]["behind"].size() == 2);
  CHECK(json["removed"].size() == 2);
}

TEST_CASE("explain accepts a region and a single file per cluster", "[cli][explain]") {
  const Run run = Explain({kHost, "--from", "cluster2/us-west-2/us-west-2b", "-f",
                           "cluster2=" + kFixtures + "/guide/cluster2/serviceentries.yaml"});
  REQUIRE(run.code == kExitOk);
  CHECK_THAT(run.out, Catch::Contains("From:          cluster2 us-west-2/us-west-2b"));
  CHECK_THAT(run.out, Catch::Contains("1      5     10.245.1.4"));
}

TEST_CASE(
    "explain and lint read files of odd JSON (explain's own output among them) without "
    "crashing",
    "[cli][explain][lint]") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("explain-odd-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "cluster1");
  std::filesystem::copy_file(kFixtures + "/guide/cluster1/serviceentries.yaml",
                             dir / "cluster1/serviceentries.yaml");
  // Fields of every wrong type where labels and kinds are read.
  std::ofstream(dir / "cluster1/odd.json")
      << R"([{"kind": 3, "metadata": {"labels": 4}}, {"kind": "WorkloadEntry", "metadata": 5},
            {"kind": "ServiceEntry", "metadata": {"labels": {"app.kubernetes.io/managed-by": 6}}},
            {"kind": "ServiceEntry", "metadata": {"labels": {"app.kubernetes.io/managed-by":
             "globalsvc"}}, "spec": {"workloadSelector": {"labels": {
             "globalsvc.solo.io/global-service": 7}}}},
            {"kind": "WorkloadEntry", "metadata": {"labels": {"app.kubernetes.io/managed-by":
             "globalsvc", "solo.io/parent-service": 8}}, "spec": {"weight": "x"}}, 9, "text"])";
  // What explain -o json printed, next to the clusters' folders.
  std::ofstream(dir / "explain.json") << Explain(GuideArgs({"-o", "json"})).out;
  const Run explained = Explain({kHost, "--from", "cluster1/us-east-1a", "-f", dir.string()});
  CHECK(explained.code == kExitOk);
  CHECK_THAT(explained.out, Catch::Contains("1      5     10.244.0.5"));
  const Run linted = LintFiles({"-f", dir.string()});
  CHECK(linted.code != kExitUsage);
  std::filesystem::remove_all(dir);
}

TEST_CASE("explain ranks a segment's alias host as the ServiceEntry that carries it",
          "[cli][explain][segments]") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("explain-alias-" + std::to_string(::getpid()));
  for (const char* cluster : {"cluster1", "cluster2"}) {
    std::filesystem::create_directories(dir / cluster);
    std::ifstream in(kFixtures + "/guide/" + cluster + "/serviceentries.yaml");
    std::stringstream text;
    text << in.rdbuf();
    std::string yaml = text.str();
    const std::string host = "- " + kHost;
    REQUIRE(yaml.find(host) != std::string::npos);
    yaml.replace(yaml.find(host), host.size(), host + "\n  - in-ambient.acme");
    std::ofstream(dir / cluster / "serviceentries.yaml") << yaml;
  }
  const Run run = Explain({"in-ambient.acme", "--from", "cluster1/us-east-1a", "-f", dir.string()});
  CHECK(run.code == kExitOk);
  CHECK_THAT(run.out,
             Catch::Contains("ServiceEntry:  cluster1: istio-system/autogen.httpbin.in-ambient"));
  CHECK_THAT(run.out, Catch::Contains("1      5     10.244.0.5"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("explain exit codes", "[cli][explain]") {
  CHECK(Explain({"--help"}).code == kExitOk);
  CHECK(Explain({}).code == kExitUsage);
  CHECK(Explain({kHost, "-f", kFixtures}).code == kExitUsage);  // no --from
  CHECK(Explain(GuideArgs({"--down", "node=x"})).code == kExitUsage);
  CHECK(Explain(GuideArgs({"-o", "wide"})).code == kExitUsage);
  CHECK(Explain(GuideArgs({"--kubeconfig", "k"})).code == kExitUsage);
  CHECK(Explain({kHost, "--from", "cluster1", "-f", kFixtures}).code == kExitUsage);
  const Run unknown = Explain(
      {"nope.httpbin.mesh.internal", "--from", "cluster1/us-east-1a", "-f", kFixtures + "/guide"});
  CHECK(unknown.code == kExitFindings);
  CHECK_THAT(unknown.err, Catch::Contains("no ServiceEntry"));
  CHECK(Explain(GuideArgs({"--from", "cluster1/nowhere-1z"})).code == kExitFindings);
  CHECK(Explain({kHost, "--from", "cluster1/us-east-1a", "-f", "/nonexistent"}).code ==
        kExitFindings);
}

TEST_CASE("lint flags the guide's rule and accepts [region, zone]", "[cli][lint]") {
  const Run guide = LintFiles(
      {"-f", kFixtures + "/guide", "-f", kFixtures + "/destinationrule-zone-region.yaml"});
  CHECK(guide.code == kExitFindings);
  CHECK_THAT(guide.out, Catch::Contains("error FailoverPriorityOrder DestinationRule "
                                        "httpbin/in-ambient-failover"));
  CHECK_THAT(guide.out, Catch::Contains("fix: order locality labels from coarse to fine"));

  const Run fixed = LintFiles(
      {"-f", kFixtures + "/guide", "-f", kFixtures + "/destinationrule-region-zone.yaml"});
  CHECK(fixed.code == kExitOk);
  // Only what upstream cannot do: the waypoint's failover stays in its network.
  CHECK_THAT(fixed.out, Catch::Contains("info WaypointStopsAtNetwork DestinationRule "
                                        "httpbin/in-ambient-failover"));
  CHECK_THAT(fixed.out, Catch::Contains("1 finding (0 errors)"));
  // The same rule for a host on one network only: nothing to say.
  const std::filesystem::path flat = std::filesystem::temp_directory_path() /
                                     ("lint-flat-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(flat) << R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: autogen.httpbin.in-ambient, namespace: istio-system}
spec:
  hosts: [in-ambient.httpbin.mesh.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{name: http, number: 8000, protocol: HTTP}]
  endpoints:
  - {address: 10.244.0.5, network: flat, locality: us-east-1/us-east-1a}
  - {address: 10.245.0.7, network: flat, locality: us-west-2/us-west-2a}
)";
  const Run one_network =
      LintFiles({"-f", flat.string(), "-f", kFixtures + "/destinationrule-region-zone.yaml"});
  std::filesystem::remove(flat);
  CHECK_THAT(one_network.out, Catch::Contains("no findings"));

  CHECK(LintFiles({"--help"}).code == kExitOk);
  CHECK(LintFiles({}).code == kExitUsage);
  const Run json = LintFiles({"-o", "json", "-f", kFixtures + "/destinationrule-zone-region.yaml"});
  CHECK(nlohmann::json::parse(json.out)["findings"].size() == 2);  // order + unmatched host
}

}  // namespace
}  // namespace globalsvc::cli
