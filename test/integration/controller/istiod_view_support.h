#pragma once

// What the istiod cases share: the guide's clusters connected to each other
// with a controller each, and waits on what upstream istiod hands ztunnel
// (its ambient index) and a waypoint (its EDS), as comparable lines.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "lib/base/result.h"
#include "test/support/ambient_view.h"
#include "test/support/status_checks.h"
#include "test/support/testbed.h"

namespace globalsvc::controller::istiod_view {

using testsupport::AmbientView;
using testsupport::TestBed;

inline constexpr const char* kHost = "in-ambient.httpbin.mesh.internal";

// The shared test bed with at least `clusters` clusters, and warnings-only
// logging for the controllers run in the test process.
TestBed& SharedBed(int clusters);

// A global service in a namespace that only cluster2 has.
extern const char* const kRemoteOnlyEcho;

// A controller run in the test process, in the inline shape (the first case
// checks istiod's reading of it); ShapedOptions: the WorkloadEntry shape.
ControllerOptions OptionsFor(const TestBed& bed, const std::string& cluster);
ControllerOptions ShapedOptions(const TestBed& bed, const std::string& cluster);

// The controller's ServiceEntry applies so far.
double Writes(Controller& controller);
// Waits until the controller has reconciled once and handed every status on.
Status WaitForIdle(Controller& controller);
// Waits until istiod of `cluster` hands ztunnel this load balancing for the
// guide's service ("MODE preferences").
Status WaitForLoadBalancing(const TestBed& bed, const std::string& cluster,
                            const std::string& want);

std::string Joined(const std::vector<std::string>& lines);

// Waits until istiod of `cluster` has the service `host` with a VIP, carried
// by exactly the workloads `want` (WorkloadLines).
Status WaitForAmbientView(const TestBed& bed, const std::string& cluster,
                          const std::vector<std::string>& want,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60),
                          const char* host = kHost);

// The pods of in-ambient in `cluster` as IdentityLines shows them.
Result<std::vector<std::string>> GuidePodLines(const TestBed& bed, const std::string& cluster,
                                               const std::string& network);
// Waits until istiod of `cluster` shows `host` carried by exactly `want`
// (IdentityLines).
Status WaitForIdentities(const TestBed& bed, const std::string& cluster, const std::string& host,
                         std::vector<std::string> want);

// Endpoint groups, best first, each "address locality" sorted: how Envoy
// ranks by priority and explain ranks by group.
using RankedGroups = std::vector<std::vector<std::string>>;
// What istiod hands the waypoint pod `waypoint` of `cluster` for `host`:port
// (its EDS, through the xDS client), grouped by priority.
Result<RankedGroups> WaypointEds(const TestBed& bed, const std::string& cluster,
                                 const testsupport::PlacedPod& waypoint, const std::string& host);
// What `globalsvc explain --l7` says, read live, from the waypoint's zone.
Result<RankedGroups> ExplainL7(const TestBed& bed, const std::string& cluster,
                               const testsupport::PlacedPod& waypoint, const std::string& host);
std::string Describe(const RankedGroups& groups);

// Removes what the WorkloadEntry shape wrote, so that later cases start from
// the inline shape alone.
void RemoveShapeObjects(const TestBed& bed,
                        const std::vector<std::string>& clusters = {"cluster1", "cluster2"});

// The guide's app, globalsvc's CRDs, and in each cluster a remote Secret for
// every other one; DisconnectClusters deletes the Secrets.
void ConnectClusters(const TestBed& bed, const std::vector<std::string>& clusters);
void DisconnectClusters(const TestBed& bed, const std::vector<std::string>& clusters);

// cluster1 and cluster2 connected both ways, with a controller each in
// `shape`. Leaving stops them and removes what they connected and wrote,
// also when a check failed on the way.
class GuidePair {
 public:
  GuidePair(const TestBed& bed, ObjectShape shape);
  ~GuidePair();
  GuidePair(const GuidePair&) = delete;
  GuidePair& operator=(const GuidePair&) = delete;

  [[nodiscard]] ControllerOptions Options(const std::string& cluster) const;
  void RestartCluster1();

  std::unique_ptr<Controller> c1;
  std::unique_ptr<Controller> c2;

 private:
  const TestBed& bed_;
  ObjectShape shape_;
};

// The guide's pods of each cluster (local), and with the other cluster
// behind its gateway (global), as the WorkloadEntry shape shows them.
struct GuideLines {
  std::vector<std::string> local1;
  std::vector<std::string> local2;
  std::vector<std::string> global1;
  std::vector<std::string> global2;
};
GuideLines GuideLinesOf(const TestBed& bed);
// Waits until istiod shows the guide's host both ways: each cluster's pods
// with their own identity and node locality, the other cluster behind its
// gateway with a resolved network gateway.
void WaitForGuideBothWays(const TestBed& bed, const GuideLines& lines);

// What the WorkloadEntry shape's two-cluster cases start from: the pair
// connected, and istiod showing the guide's host both ways.
struct ShapedGuide {
  ShapedGuide();
  TestBed& bed;
  GuidePair pair;
  GuideLines lines;
};

}  // namespace globalsvc::controller::istiod_view
