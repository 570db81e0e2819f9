#pragma once

// After an upgrade from the API group globalsvc.solo.io (api_group.h): deletes
// the RemoteCluster and GlobalService objects globalsvc made in that group, in
// the control-plane namespace, each with its uid as a precondition. Objects
// not labelled as ours are left alone, and nothing of that group is ever
// written. A cluster that does not serve the group (its CRDs never installed,
// or already removed) has nothing to clean up.
//
// Deletes count in globalsvc_writes_total{kind="legacy-status-delete"}.
// Threads: Run() from one thread only.

#include <memory>
#include <string>

#include "controller/controller_metrics.h"
#include "controller/owned_object_writer.h"
#include "lib/base/log.h"
#include "lib/base/result.h"
#include "lib/kube/object_api.h"

namespace globalsvc::controller {

class LegacyStatusCleanup {
 public:
  LegacyStatusCleanup(kube::ObjectApi& client, std::string namespace_name,
                      ControllerMetrics& metrics);

  // One pass over both resources. Ok once nothing is left to do; an error
  // that says whether another pass may do better (retryable) or not (then
  // the cleanup is given up and reported once).
  Status Run();
  [[nodiscard]] bool done() const { return done_; }

 private:
  Status CleanUp(const std::string& resource, const std::string& kind);

  kube::ObjectApi& client_;  // lists; deletes go through writer_
  OwnedObjectWriter writer_;
  const std::string namespace_;
  ControllerMetrics& metrics_;
  Logger log_;
  bool done_ = false;
};

}  // namespace globalsvc::controller
