// What a remote Secret may say: its data keys become object names and metric
// labels, its network annotation a label value; which keys connect which
// cluster, and the problem reported for each key that does not.

#include "controller/remote_secret_reading.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "lib/kube/pem.h"

namespace globalsvc::controller {
namespace {

TEST_CASE("Cluster names are DNS-1123 subdomains", "[controller][remote]") {
  for (const char* name : {"cluster2", "eu-west.prod", "c1", "0"}) {
    INFO(name);
    CHECK(IsValidClusterName(name));
  }
  for (const char* name : {"", "Cluster2", "-x", "x-", "a_b", "a/b", "a b", "d\xC3\xA9j\xC3\xA0"}) {
    INFO(name);
    CHECK_FALSE(IsValidClusterName(name));
  }
  CHECK(IsValidClusterName(std::string(253, 'a')));
  CHECK_FALSE(IsValidClusterName(std::string(254, 'a')));
}

TEST_CASE("Pinned networks are label values", "[controller][remote]") {
  for (const char* value : {"cluster2-network", "Net_1.a", "n"}) {
    INFO(value);
    CHECK(IsValidLabelValue(value));
  }
  for (const char* value : {"-net", "net-", "a b", "a/b", "\xE9"}) {
    INFO(value);
    CHECK_FALSE(IsValidLabelValue(value));
  }
  CHECK_FALSE(IsValidLabelValue(std::string(64, 'n')));
}

RemoteSecretView SecretWith(std::map<std::string, std::string> kubeconfigs) {
  RemoteSecretView view;
  view.data = nlohmann::json::object();
  for (const auto& [cluster, text] : kubeconfigs)
    view.data[cluster] = kube::EncodeBase64(text);
  return view;
}

std::vector<std::string> ReasonsOf(const DesiredRemotes& desired) {
  std::vector<std::string> reasons;
  for (const auto& problem : desired.problems)
    reasons.push_back(problem.secret + ":" + problem.reason);
  return reasons;
}

TEST_CASE("Remote Secrets: which key connects which cluster", "[controller][remote]") {
  std::map<std::string, RemoteSecretView> own;
  std::map<std::string, RemoteSecretView> legacy;

  SECTION("every valid key of every Secret is a cluster, with its Secret's settings") {
    own["a"] = SecretWith({{"cluster2", "kc2"}, {"cluster3", "kc3"}});
    own["a"].network = "net2";
    own["a"].namespaces = "shop";
    const auto desired = ReadDesiredRemotes(own, legacy, "cluster1");
    CHECK(desired.problems.empty());
    REQUIRE(desired.clusters.size() == 2);
    const auto& source = desired.clusters.at("cluster2");
    CHECK(source.secret == "a");
    CHECK(source.kubeconfig == "kc2");
    CHECK(source.network == "net2");
    CHECK(source.namespaces.Admits("shop"));
    CHECK_FALSE(source.namespaces.Admits("other"));
  }
  SECTION("a cluster named twice comes from the first Secret by name") {
    own["b"] = SecretWith({{"cluster2", "from-b"}});
    own["a"] = SecretWith({{"cluster2", "from-a"}});
    const auto desired = ReadDesiredRemotes(own, legacy, "cluster1");
    CHECK(desired.clusters.at("cluster2").kubeconfig == "from-a");
    CHECK(ReasonsOf(desired) == std::vector<std::string>{"b:duplicate-cluster"});
  }
  SECTION("an own-labelled Secret wins over a legacy one, which is told to relabel") {
    legacy["a-legacy"] = SecretWith({{"cluster2", "legacy"}, {"cluster3", "kc3"}});
    own["z-own"] = SecretWith({{"cluster2", "own"}});
    const auto desired = ReadDesiredRemotes(own, legacy, "cluster1");
    CHECK(desired.clusters.at("cluster2").kubeconfig == "own");
    CHECK(desired.clusters.at("cluster3").kubeconfig == "kc3");
    CHECK(ReasonsOf(desired) ==
          std::vector<std::string>{"a-legacy:legacy-label", "a-legacy:duplicate-cluster"});
  }
  SECTION("a Secret with both labels is read once and told to drop the legacy one") {
    own["s"] = SecretWith({{"cluster2", "kc"}});
    legacy["s"] = own["s"];
    const auto desired = ReadDesiredRemotes(own, legacy, "cluster1");
    CHECK(desired.clusters.size() == 1);
    REQUIRE(desired.problems.size() == 1);
    CHECK(desired.problems[0].reason == "legacy-label");
    CHECK(desired.problems[0].message.find("remove that label") != std::string::npos);
  }
  SECTION("keys that cannot be used are each reported, and the others still connect") {
    own["s"] = SecretWith({{"cluster1", "self"}, {"Bad_Name", "x"}, {"cluster4", "ok"}});
    own["s"].data["cluster5"] = "not base64!";
    own["s"].data["cluster6"] = 42;
    const auto desired = ReadDesiredRemotes(own, legacy, "cluster1");
    CHECK(desired.clusters.size() == 1);
    CHECK(desired.clusters.count("cluster4") == 1);
    CHECK(ReasonsOf(desired) == std::vector<std::string>{"s:invalid-cluster-name",
                                                         "s:local-cluster", "s:not-base64",
                                                         "s:not-base64"});
  }
  SECTION("a Secret whose settings do not parse is ignored whole") {
    own["net"] = SecretWith({{"cluster2", "kc"}});
    own["net"].network = "not a label";
    own["ns"] = SecretWith({{"cluster3", "kc"}});
    own["ns"].namespaces = "Not_A_Namespace";
    const auto desired = ReadDesiredRemotes(own, legacy, "cluster1");
    CHECK(desired.clusters.empty());
    CHECK(ReasonsOf(desired) ==
          std::vector<std::string>{"net:invalid-network", "ns:invalid-namespaces"});
  }
}

TEST_CASE("Remote Secrets: the view keeps data and the three annotations", "[controller][remote]") {
  const auto view = ViewOfRemoteSecret(nlohmann::json::parse(R"({
    "metadata": {"name": "s", "annotations": {
      "globalsvc.solo.io/network": "n1",
      "globalsvc.solo.io/namespaces": "a",
      "globalsvc.solo.io/exclude-namespaces": "b"}},
    "data": {"cluster2": "eA=="}})"));
  CHECK(view.network == "n1");
  CHECK(view.namespaces == "a");
  CHECK(view.exclude_namespaces == "b");
  CHECK(view.data["cluster2"] == "eA==");
  CHECK(ViewOfRemoteSecret(nlohmann::json::parse(R"({"data": []})")).data.empty());
}

}  // namespace
}  // namespace globalsvc::controller
