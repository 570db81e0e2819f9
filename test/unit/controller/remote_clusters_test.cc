// What a remote Secret may say: its data keys become object names and metric
// labels, its network annotation a label value.

#include "controller/remote_clusters.h"

#include <catch2/catch.hpp>
#include <string>

namespace globalsvc::controller {
namespace {

TEST_CASE("Cluster names are DNS-1123 subdomains", "[controller][remote]") {
  for (const char* name : {"cluster2", "eu-west.prod", "c1", "0"}) {
    INFO(name);
    CHECK(IsValidClusterName(name));
  }
  for (const char* name : {"", "Cluster2", "-x", "x-", "a_b", "a/b", "a b", "d\xC3\xA9j\xC3\xA0"}) {
    INFO(name);
    CHECK_FALSE(IsValidClusterName(name));
  }
  CHECK(IsValidClusterName(std::string(253, 'a')));
  CHECK_FALSE(IsValidClusterName(std::string(254, 'a')));
}

TEST_CASE("Pinned networks are label values", "[controller][remote]") {
  for (const char* value : {"cluster2-network", "Net_1.a", "n"}) {
    INFO(value);
    CHECK(IsValidLabelValue(value));
  }
  for (const char* value : {"-net", "net-", "a b", "a/b", "\xE9"}) {
    INFO(value);
    CHECK_FALSE(IsValidLabelValue(value));
  }
  CHECK_FALSE(IsValidLabelValue(std::string(64, 'n')));
}

}  // namespace
}  // namespace globalsvc::controller
