#pragma once

// A MeshStore with the SinkContext of cluster c1 that collects the keys and
// diagnostics its sinks hand on, and the YAML the sinks' tests feed them.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "controller/projection_sinks.h"
#include "lib/base/yaml_json.h"

namespace globalsvc::controller {

inline nlohmann::json Yaml(const std::string& text) {
  auto docs = ParseYamlDocuments(text);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  return (*docs)[0];
}

struct Fixture {
  MeshStore store;
  std::vector<std::vector<std::string>> emitted;
  mesh::Diagnostics problems;

  SinkContext Context(std::string network_override = "") {
    SinkContext context;
    context.cluster = "c1";
    context.network_override = std::move(network_override);
    context.store = &store;
    context.on_keys = [this](std::vector<std::string> keys) { emitted.push_back(std::move(keys)); };
    context.on_diagnostics = [this](const mesh::Diagnostics& d) {
      problems.insert(problems.end(), d.begin(), d.end());
    };
    return context;
  }

  std::vector<std::string> TakeKeys() {
    std::vector<std::string> all;
    for (auto& batch : emitted)
      all.insert(all.end(), batch.begin(), batch.end());
    emitted.clear();
    return all;
  }
};

inline std::string ServiceYaml(const std::string& name, const std::string& scope,
                               const std::string& extra = "") {
  return "kind: Service\nmetadata: {name: " + name +
         ", namespace: ns, labels: {solo.io/service-scope: " + scope + "}" + extra +
         "}\nspec: {ports: [{name: http, port: 80}]}\n";
}

}  // namespace globalsvc::controller
