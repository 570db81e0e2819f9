#include "lib/failover/ranking_failover_priority.h"

namespace globalsvc::failover {

using mesh::kClusterLabel;
using mesh::kNetworkLabel;
using mesh::kRegionLabel;
using mesh::kSubzoneLabel;
using mesh::kZoneLabel;

namespace {

void SetIfPresent(TopologyLabels& labels, const char* key, const std::string& value) {
  if (!value.empty()) labels[key] = value;
}

}  // namespace

TopologyLabels EndpointTopologyLabels(const FailoverEndpoint& endpoint) {
  TopologyLabels labels = endpoint.labels;
  SetIfPresent(labels, kRegionLabel, endpoint.locality.region);
  SetIfPresent(labels, kZoneLabel, endpoint.locality.zone);
  SetIfPresent(labels, kSubzoneLabel, endpoint.locality.subzone);
  SetIfPresent(labels, kNetworkLabel, endpoint.network);
  SetIfPresent(labels, kClusterLabel, endpoint.cluster);
  return labels;
}

TopologyLabels ClientTopologyLabels(const FailoverClient& client) {
  TopologyLabels labels;
  SetIfPresent(labels, kRegionLabel, client.locality.region);
  SetIfPresent(labels, kZoneLabel, client.locality.zone);
  SetIfPresent(labels, kSubzoneLabel, client.locality.subzone);
  SetIfPresent(labels, kNetworkLabel, client.network);
  SetIfPresent(labels, kClusterLabel, client.cluster);
  return labels;
}

int FailoverPriority(std::span<const std::string> failover_priority, const TopologyLabels& client,
                     const TopologyLabels& endpoint) {
  const int label_count = static_cast<int>(failover_priority.size());
  for (std::size_t j = 0; j < failover_priority.size(); ++j) {
    const std::string& entry = failover_priority[j];
    std::string key = entry;
    std::string wanted;
    if (const auto eq = entry.find('='); eq != std::string::npos) {
      key = entry.substr(0, eq);
      wanted = entry.substr(eq + 1);
    } else if (const auto it = client.find(key); it != client.end()) {
      wanted = it->second;
    }
    const auto have = endpoint.find(key);
    if (wanted.empty() || have == endpoint.end() || have->second != wanted) {
      return label_count - static_cast<int>(j);
    }
  }
  return 0;
}

}  // namespace globalsvc::failover
