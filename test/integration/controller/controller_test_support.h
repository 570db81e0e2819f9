#pragma once

// Helpers shared by the controller's test-bed tests: the guide's sample app,
// remote Secrets, the ServiceEntries a cluster holds as comparable endpoint
// lines, Events, and Prometheus text.

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "controller/controller.h"
#include "lib/base/result.h"
#include "test/support/testbed.h"

namespace globalsvc::controller::testbed {

inline constexpr const char* kGuideEntry = "autogen.httpbin.in-ambient";

std::string ReadFile(const std::filesystem::path& path);

// A remote Secret named `name` in cluster's istio-system whose data key
// `cluster_key` holds `kubeconfig`, labelled `label`=true.
std::string RemoteSecretYaml(const std::string& name, const std::string& cluster_key,
                             const std::string& kubeconfig,
                             const std::string& label = "globalsvc.solo.io/remote-cluster");
// The remote Secret globalsvc-remote-<remote> with the remote's admin kubeconfig.
std::string RemoteSecretYaml(const testsupport::TestBed& bed, const std::string& remote);

// Options of a controller run inside the test process against `cluster`:
// its admin kubeconfig, metrics on a free port, a 30 s initial sync, the
// default (WorkloadEntry) shape.
controller::ControllerOptions InProcessOptions(const testsupport::TestBed& bed,
                                               const std::string& cluster,
                                               const std::string& identity,
                                               const std::string& lease_name);

// The guide's sample app in every cluster of the test bed: 2 replicas (one
// per zone), the Service labelled global, no traffic-distribution annotation.
// Returns once every cluster's own state shows it (SettleGuideApp).
Status PrepareGuideApp(const testsupport::TestBed& bed);

// Waits until the guide app in `cluster` has `replicas` ready pods, no other
// pod, and exactly that many ready endpoints in its own EndpointSlices: the
// ground truth a test waits for before it judges the controller. After an API
// server outage the cluster's controller-manager and kwok can sit in a long
// retry backoff (the EndpointSlice controller's grows to 1000 s); when the
// state lags, both are restarted once, which clears it.
Status SettleGuideApp(const testsupport::TestBed& bed, const std::string& cluster, int replicas);

// ServiceEntry `name` of `cluster`, in whichever namespace it lives; one of
// the WorkloadEntry shape comes with its WorkloadEntries joined into
// spec.endpoints, as the inline shape holds them.
std::optional<nlohmann::json> GetServiceEntry(const testsupport::TestBed& bed,
                                              const std::string& cluster, const std::string& name);
// The same, telling a failed read (an error) from a missing entry (nullopt).
Result<std::optional<nlohmann::json>> ReadServiceEntry(const testsupport::TestBed& bed,
                                                       const std::string& cluster,
                                                       const std::string& name);
// Every ServiceEntry globalsvc manages in `cluster`, each as GetServiceEntry
// gives it.
std::vector<nlohmann::json> ManagedServiceEntries(const testsupport::TestBed& bed,
                                                  const std::string& cluster);
// The namespace ServiceEntry `name` lives in ("" when there is none).
std::string ServiceEntryNamespace(const testsupport::TestBed& bed, const std::string& cluster,
                                  const std::string& name);

// The endpoints of a ServiceEntry as comparable, sorted lines:
// "cluster network locality weight pod|gateway".
std::vector<std::string> EndpointLines(const nlohmann::json& entry);
std::string JoinLines(const std::vector<std::string>& lines);

// Waits until `cluster` holds ServiceEntry `name` with exactly `expected`.
Status WaitForEndpoints(const testsupport::TestBed& bed, const std::string& cluster,
                        const std::vector<std::string>& expected,
                        const std::string& name = kGuideEntry,
                        std::chrono::milliseconds timeout = std::chrono::seconds(60));

// True when `cluster` holds an events.k8s.io Event of type Warning with
// `reason` regarding the object `kind` `ns`/`name`.
bool HasWarningEvent(const testsupport::TestBed& bed, const std::string& cluster,
                     const std::string& ns, const std::string& kind, const std::string& name,
                     const std::string& reason);
// The reportingInstance of every such Event.
std::set<std::string> WarningEventReporters(const testsupport::TestBed& bed,
                                            const std::string& cluster, const std::string& ns,
                                            const std::string& kind, const std::string& name,
                                            const std::string& reason);

// The value of one sample in Prometheus text: `series` is the exact sample
// name with its labels as rendered, e.g. `m{a="b"}`; 0 when absent.
double MetricValue(std::string_view text, std::string_view series);
// The sample of metric `name` whose labels include every pair of `labels`;
// nullopt when there is none.
std::optional<double> FindMetric(std::string_view text, std::string_view name,
                                 const std::map<std::string, std::string>& labels = {});

// The traffic distribution a generated ServiceEntry says its Service asked
// for: globalsvc.solo.io/requested-traffic-distribution when globalsvc wrote
// another value (PreferNetwork and PreferRegion are written as PreferClose),
// else networking.istio.io/traffic-distribution.
std::string RequestedDistribution(const nlohmann::json& entry);

}  // namespace globalsvc::controller::testbed
