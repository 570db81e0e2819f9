#include "lib/failover/failover_sample.h"

#include <map>
#include <tuple>

namespace globalsvc::failover {
namespace {

// SplitMix64: tiny, well-mixed, and defined bit for bit, unlike the standard
// library's distributions.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // An index picked in proportion to the weights (all >= 1).
  template <typename Range, typename WeightOf>
  std::size_t PickWeighted(const Range& items, WeightOf weight_of) {
    std::uint64_t total = 0;
    for (const auto& item : items)
      total += weight_of(item);
    std::uint64_t point = Next() % total;
    std::size_t index = 0;
    for (const auto& item : items) {
      const std::uint64_t weight = weight_of(item);
      if (point < weight) return index;
      point -= weight;
      ++index;
    }
    return index - 1;
  }

 private:
  std::uint64_t state_;
};

std::uint64_t WeightOf(const FailoverEndpoint& endpoint) {
  return endpoint.weight == 0 ? 1 : endpoint.weight;
}

}  // namespace

std::vector<SampleCount> SampleRequests(const Explanation& explanation, int requests,
                                        std::uint64_t seed) {
  std::vector<SampleCount> counts;
  if (explanation.groups.empty() || requests <= 0) return counts;
  const auto& endpoints = explanation.groups.front().endpoints;
  SplitMix64 random(seed);
  std::map<std::tuple<std::string, std::string, bool>, int> tally;
  for (int i = 0; i < requests; ++i) {
    const FailoverEndpoint& picked =
        endpoints[random.PickWeighted(endpoints, [](const RankedEndpoint& e) {
          return WeightOf(e.endpoint);
        })].endpoint;
    if (picked.behind.empty()) {
      ++tally[{EndpointDisplayName(picked), picked.cluster, false}];
      continue;
    }
    const FailoverEndpoint& inner = picked.behind[random.PickWeighted(picked.behind, WeightOf)];
    ++tally[{EndpointDisplayName(inner), inner.cluster, true}];
  }
  for (const auto& [key, count] : tally) {
    counts.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
  }
  return counts;
}

}  // namespace globalsvc::failover
