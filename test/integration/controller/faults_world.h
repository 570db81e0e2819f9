#pragma once

// What the fault cases share: the two-cluster test bed, kubeconfigs for
// cluster2 (good and bad), a folder for controller logs, the strings that
// must never appear in a log, and controllers for cluster1 run as child
// processes of the globalsvc binary.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "lib/base/result.h"
#include "test/integration/controller/controller_test_support.h"
#include "test/integration/controller/fault_support.h"
#include "test/support/testbed.h"

namespace globalsvc::controller::faults {

// The fault cases' vocabulary, from the test-bed helpers.
namespace fs = std::filesystem;
using testbed::ApplySecret;
using testbed::ControllerProcess;
using testbed::DeleteSecret;
using testbed::EndpointLines;
using testbed::EntryPoller;
using testbed::Figure;
using testbed::FindMetric;
using testbed::FullView;
using testbed::GetServiceEntry;
using testbed::HasWarningEvent;
using testbed::Joined;
using testbed::JoinLines;
using testbed::Message;
using testbed::ReadFile;
using testbed::RemoteSecretYaml;
using testbed::Seconds;
using testbed::StatusOf;
using testbed::WaitForEndpoints;
using testbed::WaitForMetric;
using testbed::WarningEventReporters;
using testsupport::Component;
using testsupport::TestBed;
using testsupport::WaitFor;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Everything the cases share: the test bed, the kubeconfigs for cluster2
// (good and bad), a folder for controller logs, and the strings that must
// never appear in a log.
struct World {
  TestBed* bed = nullptr;
  fs::path dir;
  std::string admin;          // cluster2's admin kubeconfig (client certificate)
  std::string admin_renamed;  // the same certificate under another user and context name
  std::string reader;         // a ServiceAccount token with read access
  std::string malformed_yaml;
  std::string missing_context;
  std::string wrong_ca;
  std::string wrong_token;  // 401
  std::string no_rbac;      // 403
  std::string dead_address;
  std::vector<std::string> credentials;  // never in a log
  int controllers = 0;

  ~World() {
    if (!dir.empty() && std::getenv("GLOBALSVC_KEEP_LOGS") == nullptr) {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  }

  // Private key bodies and tokens: a few distinctive pieces of each.
  void AddCredential(const std::string& secret) {
    if (secret.size() < 24) return;
    credentials.push_back(secret.substr(0, 24));
    credentials.push_back(secret.substr(secret.size() / 2, 24));
  }
  void AddPemKey(const std::string& pem) {
    std::istringstream lines(pem);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("-----") == std::string::npos && line.size() >= 24) AddCredential(line);
    }
  }
};

// The world, built once per test process; fails the case when it cannot be.
World& GetWorld();

// A controller for cluster1 as a child process, its log in the world's folder.
Result<std::unique_ptr<ControllerProcess>> StartController(World& world,
                                                           const std::string& identity,
                                                           const std::string& lease);
// Checks that the controller's log never held a credential.
void CheckLog(const World& world, const ControllerProcess& process);
// Stops the controller (it must exit cleanly on SIGTERM) and checks its log.
void StopAndCheckLog(const World& world, ControllerProcess& process);

// The world each case starts from: the guide's app in both clusters and no
// remote Secret in cluster1.
void StartClean(const World& world);

// An EntryPoller check: the entry holds cluster2's gateway endpoint.
std::string Cluster2BehindGateway(const nlohmann::json* entry);

// What cluster1's ServiceEntry holds with no remote connected.
inline const std::vector<std::string> kLocalView = testbed::LocalView();

}  // namespace globalsvc::controller::faults
