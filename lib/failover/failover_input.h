#pragma once

// Turns Kubernetes objects read from files (ServiceEntries, DestinationRules,
// and optionally Namespaces, Nodes and gateway Deployments) into one
// simulation: which ServiceEntry the client's cluster holds for a host, where
// the client is, and which DestinationRule its waypoint applies.
//
// Which cluster an object belongs to: the folder it was read from (a snapshot
// laid out one folder per cluster, as `globalsvc plan -f` reads); else, for a
// ServiceEntry, the cluster of its addressed (local) endpoints; else, when only
// one ServiceEntry has the host, that one is assumed to be the client's.

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/failover/failover_simulator.h"
#include "lib/mesh/model.h"

namespace globalsvc::failover {

struct SourcedObject {
  std::string cluster;  // empty when the file's location does not say
  std::string source;   // file name, for messages
  nlohmann::json object;
};

// Appends one parsed document; a List contributes its items.
void AppendObjects(const nlohmann::json& document, const std::string& cluster,
                   const std::string& source, std::vector<SourcedObject>& objects);

// Where the client of an explain query is.
struct ClientLocation {
  std::string cluster;
  mesh::Locality locality;  // region empty when only the zone was given
};

struct ExplainQuery {
  std::string host;
  ClientLocation from;
  std::string network;  // empty: derived from the objects
  std::string control_plane_namespace = mesh::kDefaultControlPlaneNamespace;
  DataPlane data_plane = DataPlane::kZtunnel;
  std::vector<Failure> failures;
};

struct ExplainInput {
  SimulationInput simulation;
  std::string service_entry;     // "<cluster>: <namespace>/<name>"
  std::string destination_rule;  // same form (no cluster when unknown); empty: none
  std::vector<std::string> notes;
};

// Errors are kInvalidInput (the objects cannot answer the query) or kNotFound
// (no ServiceEntry for the host in the client's cluster).
[[nodiscard]] Result<ExplainInput> BuildExplainInput(std::span<const SourcedObject> objects,
                                                     const ExplainQuery& query);

}  // namespace globalsvc::failover
