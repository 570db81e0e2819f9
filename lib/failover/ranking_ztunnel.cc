#include "lib/failover/ranking_ztunnel.h"

namespace globalsvc::failover {

using mesh::LocalityScope;

namespace {

bool ScopeMatches(LocalityScope scope, const FailoverClient& client,
                  const FailoverEndpoint& endpoint) {
  // Plain string equality, as ztunnel compares: two empty values match.
  switch (scope) {
    case LocalityScope::kNetwork:
      return client.network == endpoint.network;
    case LocalityScope::kRegion:
      return client.locality.region == endpoint.locality.region;
    case LocalityScope::kZone:
      return client.locality.zone == endpoint.locality.zone;
    case LocalityScope::kSubzone:
      return client.locality.subzone == endpoint.locality.subzone;
    case LocalityScope::kNode:
      return client.node == endpoint.node;
  }
  return false;
}

}  // namespace

int ZtunnelRank(std::span<const mesh::LocalityScope> preference, const FailoverClient& client,
                const FailoverEndpoint& endpoint) {
  const int network_bonus = static_cast<int>(preference.size()) - 1;
  int rank = 0;
  for (std::size_t i = 0; i < preference.size(); ++i) {
    const bool matches = ScopeMatches(preference[i], client, endpoint);
    if (i == 0 && preference[i] == LocalityScope::kNetwork) {
      if (matches) rank += 1 + network_bonus;
      continue;
    }
    if (!matches) break;
    ++rank;
  }
  return rank;
}

}  // namespace globalsvc::failover
