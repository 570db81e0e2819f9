// The controller SIGKILLed at random points during a burst of changes in
// both clusters (scope labels, traffic-distribution annotations, endpoints,
// Services deleted and recreated). After the last restart cluster1 must hold
// exactly the ServiceEntries the final state calls for: every global service
// its ServiceEntry with exactly its endpoints, no orphan, no duplicate.
//
// The kill points come from a seed printed at the start (set
// GLOBALSVC_FAULT_SEED to replay one). GLOBALSVC_SOAK=1 runs a longer burst
// with more kills.

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include "lib/kube/kube_client.h"
#include "lib/kube/kubeconfig.h"
#include "lib/mesh/traffic_distribution.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/integration/controller/fault_support.h"
#include "test/support/testbed.h"

namespace globalsvc::controller {
namespace {

using namespace testbed;
using nlohmann::json;
using testsupport::TestBed;
using testsupport::WaitFor;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kNamespace = "globalsvc-burst";
constexpr const char* kManager = "globalsvc-burst-test";
const std::vector<std::string> kDistributions = {"", "PreferClose", "PreferRegion",
                                                 "PreferNetwork"};

struct Address {
  std::string ip;
  std::string node;
  bool ready = true;
};

// One Service in one cluster as the test last wrote it.
struct Side {
  bool exists = true;
  bool exported = true;
  std::string distribution;
  std::vector<Address> addresses;
};

struct Node {
  std::string name;
  std::string locality;
};

class Burst {
 public:
  Burst(TestBed& bed, std::uint64_t seed, int services) : bed_(bed), random_(seed) {
    for (int i = 0; i < services; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "burst-%02d", i);
      names_.push_back(name);
    }
    for (int c = 0; c < 2; ++c) {
      const std::string cluster = c == 0 ? "cluster1" : "cluster2";
      auto config = kube::LoadKubeconfig(bed.Kubeconfig(cluster).string(), "");
      REQUIRE(config.ok());
      config->name = cluster;
      kube::TransportOptions transport;
      transport.qps = 1000;
      transport.burst = 1000;
      auto client = kube::KubeClient::Create(*config, kube::SystemClock::Instance(), transport);
      REQUIRE(client.ok());
      clients_[c] = std::move(*client);
      auto nodes = bed.GetJson(cluster, {"nodes"});
      REQUIRE(nodes.ok());
      for (const auto& node : (*nodes)["items"]) {
        const auto labels = node["metadata"].value("labels", json::object());
        nodes_[c].push_back({node["metadata"].value("name", ""),
                             labels.value("topology.kubernetes.io/region", "") + "/" +
                                 labels.value("topology.kubernetes.io/zone", "")});
      }
      REQUIRE_FALSE(nodes_[c].empty());
    }
  }

  // Every Service in both clusters: exported (mostly), two ready endpoints.
  void Setup() {
    for (int c = 0; c < 2; ++c) {
      const std::string cluster = c == 0 ? "cluster1" : "cluster2";
      auto ns = bed_.Kubectl(cluster, {"create", "namespace", kNamespace});
      (void)ns;  // exists already after an earlier run
      for (const auto& name : names_) {
        Side& side = sides_[name][static_cast<std::size_t>(c)];
        side.exported = Chance(0.7);
        side.addresses.clear();
        AddAddress(c, side);
        AddAddress(c, side);
        REQUIRE_OK(WriteService(c, name));
        REQUIRE_OK(WriteSlice(c, name));
      }
    }
  }

  // One random change; returns what it did.
  std::string Change() {
    const int c = Pick(2);
    const std::string& name =
        names_[static_cast<std::size_t>(Pick(static_cast<int>(names_.size())))];
    Side& side = sides_[name][static_cast<std::size_t>(c)];
    const std::string where = (c == 0 ? "cluster1 " : "cluster2 ") + name;
    const int kind = Pick(100);
    Status written = Ok{};
    std::string what;
    if (kind < 35) {
      const int count = Pick(5);
      side.addresses.clear();
      for (int i = 0; i < count; ++i)
        AddAddress(c, side);
      written = WriteSlice(c, name);
      what = "endpoints=" + std::to_string(count);
    } else if (kind < 45) {
      if (side.addresses.empty() || Chance(0.5)) {
        AddAddress(c, side);
      } else {
        side.addresses.erase(side.addresses.begin() +
                             Pick(static_cast<int>(side.addresses.size())));
      }
      written = WriteSlice(c, name);
      what = "endpoints=" + std::to_string(side.addresses.size());
    } else if (kind < 70) {
      side.exported = !side.exported;
      if (side.exists) written = WriteService(c, name);
      what = side.exported ? "exported" : "not exported";
    } else if (kind < 90) {
      side.distribution = kDistributions[static_cast<std::size_t>(Pick(4))];
      if (side.exists) written = WriteService(c, name);
      what = "distribution=" + side.distribution;
    } else if (side.exists) {
      side.exists = false;
      written = clients_[c]->Delete(kube::resources::Services(), kNamespace, name);
      what = "deleted";
    } else {
      side.exists = true;
      written = WriteService(c, name);
      what = "created";
    }
    INFO(where << " " << what);
    REQUIRE_OK(written);
    return where + " " + what;
  }

  // What cluster1 must hold: ServiceEntry name -> its comparable text.
  std::map<std::string, std::string> Expected() const {
    std::map<std::string, std::string> out;
    for (const auto& name : names_) {
      const Side& local = sides_.at(name)[0];
      const Side& remote = sides_.at(name)[1];
      const bool local_in = local.exists && local.exported;
      const bool remote_in = remote.exists && remote.exported;
      if (!local_in && !remote_in) continue;
      std::vector<std::string> endpoints;
      if (local_in) {
        for (const auto& a : local.addresses) {
          if (a.ready)
            endpoints.push_back("cluster1 " + a.ip + " cluster1-network " + Locality(0, a.node));
        }
      }
      if (remote_in) {
        int ready = 0;
        for (const auto& a : remote.addresses)
          ready += a.ready ? 1 : 0;
        if (ready > 0) {
          endpoints.push_back("cluster2 gateway cluster2-network us-west-2/us-west-2a weight=" +
                              std::to_string(ready));
        }
      }
      std::sort(endpoints.begin(), endpoints.end());
      std::string distribution = local_in ? local.distribution : remote.distribution;
      if (distribution.empty()) distribution = "PreferNetwork";
      out["autogen." + std::string(kNamespace) + "." + name] = Describe(distribution, endpoints);
    }
    return out;
  }

  // What cluster1 holds of this test's ServiceEntries, in the same form.
  std::map<std::string, std::string> Actual() const {
    std::map<std::string, std::string> out;
    // Of either shape, wherever they live (testbed::ManagedServiceEntries).
    const auto entries = testbed::ManagedServiceEntries(bed_, "cluster1");
    const std::string prefix = "autogen." + std::string(kNamespace) + ".";
    for (const auto& entry : entries) {
      const std::string name = entry["metadata"].value("name", "");
      if (name.rfind(prefix, 0) != 0) continue;
      std::vector<std::string> endpoints;
      for (const auto& e : entry["spec"].value("endpoints", json::array())) {
        const std::string cluster =
            e.value("labels", json::object()).value("topology.istio.io/cluster", "");
        if (e.contains("address")) {
          endpoints.push_back(cluster + " " + e.value("address", "") + " " +
                              e.value("network", "") + " " + e.value("locality", ""));
        } else {
          endpoints.push_back(cluster + " gateway " + e.value("network", "") + " " +
                              e.value("locality", "") +
                              " weight=" + std::to_string(e.value("weight", 0)));
        }
      }
      std::sort(endpoints.begin(), endpoints.end());
      // What the Service asked for; the written value follows from it
      // (WrittenTrafficDistribution), and must agree.
      const std::string requested = testbed::RequestedDistribution(entry);
      const std::string written = entry["metadata"]
                                      .value("annotations", json::object())
                                      .value("networking.istio.io/traffic-distribution", "");
      out[name] = Describe(written == mesh::WrittenTrafficDistribution(requested)
                               ? requested
                               : requested + " written as " + written,
                           endpoints);
    }
    return out;
  }

 private:
  static std::string Describe(const std::string& distribution,
                              const std::vector<std::string>& endpoints) {
    std::string text = distribution + ":";
    for (const auto& e : endpoints)
      text += " [" + e + "]";
    return text;
  }

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(random_); }

  std::string Locality(int c, const std::string& node) const {
    for (const auto& n : nodes_[c]) {
      if (n.name == node) return n.locality;
    }
    return "?";
  }

  // A fresh address (never reused, so a stale one cannot pass for a new one).
  void AddAddress(int c, Side& side) {
    const int n = next_address_++;
    Address a;
    a.ip = std::string(c == 0 ? "10.250." : "10.251.") + std::to_string(n / 250) + "." +
           std::to_string(n % 250 + 1);
    a.node = nodes_[c][static_cast<std::size_t>(Pick(static_cast<int>(nodes_[c].size())))].name;
    a.ready = Chance(0.8);
    side.addresses.push_back(a);
  }

  Status WriteService(int c, const std::string& name) {
    const Side& side = sides_[name][static_cast<std::size_t>(c)];
    json service = {
        {"apiVersion", "v1"},
        {"kind", "Service"},
        {"metadata",
         {{"name", name},
          {"namespace", kNamespace},
          {"labels", {{"solo.io/service-scope", side.exported ? "global" : "cluster"}}}}},
        {"spec",
         {{"ports", json::array({{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}}})}}}};
    if (!side.distribution.empty()) {
      service["metadata"]["annotations"] = {
          {"networking.istio.io/traffic-distribution", side.distribution}};
    }
    return StatusOf(clients_[c]->Apply(kube::resources::Services(), kNamespace, service,
                                       kube::ApplyOptions{kManager, true, ""}));
  }

  Status WriteSlice(int c, const std::string& name) {
    const Side& side = sides_[name][static_cast<std::size_t>(c)];
    json endpoints = json::array();
    for (const auto& a : side.addresses) {
      endpoints.push_back(
          {{"addresses", json::array({a.ip})},
           {"nodeName", a.node},
           {"conditions", {{"ready", a.ready}, {"serving", a.ready}, {"terminating", false}}}});
    }
    json slice = {{"apiVersion", "discovery.k8s.io/v1"},
                  {"kind", "EndpointSlice"},
                  {"metadata",
                   {{"name", name + "-burst"},
                    {"namespace", kNamespace},
                    {"labels", {{"kubernetes.io/service-name", name}}}}},
                  {"addressType", "IPv4"},
                  {"ports", json::array({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}})},
                  {"endpoints", endpoints}};
    return StatusOf(clients_[c]->Apply(kube::resources::EndpointSlices(), kNamespace, slice,
                                       kube::ApplyOptions{kManager, true, ""}));
  }

  TestBed& bed_;
  std::mt19937_64 random_;
  std::vector<std::string> names_;
  std::unique_ptr<kube::KubeClient> clients_[2];
  std::vector<Node> nodes_[2];
  std::map<std::string, std::array<Side, 2>> sides_;
  int next_address_ = 0;
};

std::string Difference(const std::map<std::string, std::string>& expected,
                       const std::map<std::string, std::string>& actual) {
  std::string out;
  for (const auto& [name, text] : expected) {
    auto it = actual.find(name);
    if (it == actual.end()) {
      out += "missing " + name + "\n";
    } else if (it->second != text) {
      out += "wrong " + name + ": " + it->second + " expected " + text + "\n";
    }
  }
  for (const auto& [name, text] : actual) {
    if (!expected.count(name)) out += "orphan " + name + ": " + text + "\n";
  }
  return out;
}

TEST_CASE("SIGKILL at random points during a burst of changes: the final state is exact",
          "[controller][faults][testbed]") {
  TestBed& bed = SharedBed();
  const bool soak = std::getenv("GLOBALSVC_SOAK") != nullptr;
  const int changes = soak ? 10000 : 1000;
  const int kills = soak ? 50 : 10;
  const int services = 30;
  std::uint64_t seed = std::random_device{}();
  if (const char* fixed = std::getenv("GLOBALSVC_FAULT_SEED"))
    seed = std::strtoull(fixed, nullptr, 10);
  std::printf("burst: seed=%llu changes=%d kills=%d (GLOBALSVC_FAULT_SEED=%llu replays it)\n",
              static_cast<unsigned long long>(seed), changes, kills,
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  INFO("seed " << seed);

  Burst burst(bed, seed, services);
  burst.Setup();
  REQUIRE_OK(ApplySecret(bed, "faults-remote", ReadFile(bed.Kubeconfig("cluster2"))));

  // Kill points: `kills` distinct change indexes; after each kill the
  // controller is restarted at once (same identity, as a restarted pod), so a
  // kill can also land while it is still syncing.
  std::mt19937_64 points(seed ^ 0x5eedull);
  std::set<int> kill_at;
  while (static_cast<int>(kill_at.size()) < kills) {
    kill_at.insert(std::uniform_int_distribution<int>(0, changes - 1)(points));
  }
  auto start = [&] {
    auto started = StartController("burst", "globalsvc-faults-burst");
    REQUIRE_OK(StatusOf(started));
    return std::move(*started);
  };
  auto controller = start();
  std::string last_change;
  const auto burst_started = SteadyClock::now();
  for (int i = 0; i < changes; ++i) {
    if (kill_at.count(i)) {
      // A controller that ended on its own (a crash, a sanitizer report)
      // says why in its last lines.
      INFO("controller log tail:\n" << controller->Tail());
      REQUIRE(controller->Running());
      controller->Kill();
      controller = start();
    }
    last_change = burst.Change();
  }
  const auto burst_done = SteadyClock::now();
  std::printf("burst: %d changes in %.1f s, last: %s\n", changes,
              Seconds(burst_done - burst_started), last_change.c_str());

  const auto expected = burst.Expected();
  std::string difference;
  const Status converged = WaitFor("exact ServiceEntries", 180s, [&](std::string* why) {
    difference = Difference(expected, burst.Actual());
    *why = difference.substr(0, 3000);
    return difference.empty();
  });
  INFO("controller log tail:\n" << controller->Tail());
  CHECK_OK(converged);
  const auto done = SteadyClock::now();
  Figure("burst: exact state after the last change", Seconds(done - burst_done));
  Figure("burst: writes by the last controller",
         controller->MetricOr0("globalsvc_writes_total", {{"kind", "apply"}}) +
             controller->MetricOr0("globalsvc_writes_total", {{"kind", "delete"}}),
         "writes");
  std::printf("burst: %zu global services expected\n", expected.size());

  // Stable: a restart with nothing changed writes nothing.
  CHECK(controller->Terminate());
  controller = start();
  CHECK_OK(WaitForMetric(*controller, "leading and reconciled", [](const ControllerProcess& c) {
    return c.Metric("globalsvc_leader") == 1.0 &&
           c.MetricOr0("globalsvc_reconcile_total", {{"result", "unchanged"}}) >= 1 &&
           c.MetricOr0("globalsvc_queue_depth") == 0;
  }));
  CHECK(Difference(expected, burst.Actual()).empty());
  CHECK(controller->MetricOr0("globalsvc_writes_total", {{"kind", "apply"}}) == 0);
  CHECK(controller->MetricOr0("globalsvc_writes_total", {{"kind", "delete"}}) == 0);

  // Leave nothing behind: the Services go, and with them their ServiceEntries.
  REQUIRE_OK(DeleteSecret(bed, "faults-remote"));
  for (const char* cluster : {"cluster1", "cluster2"}) {
    CHECK(bed.Kubectl(cluster, {"delete", "services,endpointslices", "--all", "-n", kNamespace})
              .ok());
  }
  CHECK_OK(WaitFor("the burst's ServiceEntries deleted", 120s, [&](std::string* why) {
    const auto left = burst.Actual();
    *why = std::to_string(left.size()) + " left";
    return left.empty();
  }));
  CHECK(controller->Terminate());
}

}  // namespace
}  // namespace globalsvc::controller
