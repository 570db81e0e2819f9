#include "cli/client_location.h"

#include <catch2/catch.hpp>

namespace globalsvc::cli {
namespace {

TEST_CASE("A client location names the cluster, then the zone or the region, zone and subzone",
          "[unit][cli]") {
  auto zone_only = ParseClientLocation("cluster1/us-east-1a");
  REQUIRE(zone_only.ok());
  CHECK(zone_only->cluster == "cluster1");
  CHECK(zone_only->locality.region.empty());
  CHECK(zone_only->locality.zone == "us-east-1a");

  auto full = ParseClientLocation("cluster2/us-west/us-west-1b/rack7");
  REQUIRE(full.ok());
  CHECK(full->cluster == "cluster2");
  CHECK(full->locality.region == "us-west");
  CHECK(full->locality.zone == "us-west-1b");
  CHECK(full->locality.subzone == "rack7");
}

TEST_CASE("A client location with too few, too many or empty parts is invalid input",
          "[unit][cli]") {
  for (const char* text : {"cluster1", "", "cluster1//zone", "a/b/c/d/e", "/zone", "cluster1/"}) {
    INFO(text);
    auto parsed = ParseClientLocation(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == ErrorCode::kInvalidInput);
    CHECK_THAT(parsed.error().message, Catch::Contains("CLUSTER/ZONE"));
  }
}

}  // namespace
}  // namespace globalsvc::cli
