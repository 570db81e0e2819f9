#include "lib/kube/exec_plugin.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "lib/base/rfc3339.h"
#include "lib/base/utf8.h"
#include "lib/kube/credential_source.h"
#include "test/unit/kube/temp_dir.h"

namespace globalsvc::kube {
namespace {

using testing::TempDir;

// A plugin that counts its runs, records KUBERNETES_EXEC_INFO, and prints a
// token that expires at $EXPIRY (or never).
std::string WritePlugin(const TempDir& dir) {
  const std::string folder = dir.path().string();
  std::string script = R"(#!/bin/sh
n=$(cat DIR/runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > DIR/runs
printf '%s' "$KUBERNETES_EXEC_INFO" > DIR/exec-info
if [ -n "$EXPIRY" ]; then exp=",\"expirationTimestamp\":\"$EXPIRY\""; else exp=""; fi
echo "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"token-$n-$1\"$exp}}"
)";
  for (auto pos = script.find("DIR"); pos != std::string::npos; pos = script.find("DIR", pos)) {
    script.replace(pos, 3, folder);
  }
  return dir.Write("plugin.sh", script, true);
}

ClusterConfig ClusterWithPlugin(const std::string& command, std::vector<std::string> args,
                                std::vector<std::pair<std::string, std::string>> env = {}) {
  ClusterConfig cluster;
  cluster.name = "east";
  cluster.server = "https://10.0.0.1";
  ExecPluginConfig plugin;
  plugin.command = command;
  plugin.args = std::move(args);
  plugin.env = std::move(env);
  plugin.api_version = "client.authentication.k8s.io/v1";
  plugin.provide_cluster_info = true;
  cluster.auth.exec = plugin;
  return cluster;
}

TEST_CASE("Exec plugin output becomes a token - cluster info is passed", "[kube][exec]") {
  TempDir dir;
  const auto cluster = ClusterWithPlugin(WritePlugin(dir), {"a"});
  auto credential = RunExecPlugin(*cluster.auth.exec, cluster, std::chrono::seconds(10));
  REQUIRE(credential.ok());
  CHECK(credential->token == "token-1-a");
  CHECK_FALSE(credential->expiration);
  const auto info = nlohmann::json::parse(dir.Read("exec-info"));
  CHECK(info["kind"] == "ExecCredential");
  CHECK(info["spec"]["interactive"] == false);
  CHECK(info["spec"]["cluster"]["server"] == "https://10.0.0.1");
}

TEST_CASE("Exec credentials are cached until expirationTimestamp", "[kube][exec]") {
  TempDir dir;
  ManualClock clock;
  const auto expiry = FormatMicroTime(clock.WallNow() + std::chrono::minutes(10));
  CredentialSource source(ClusterWithPlugin(WritePlugin(dir), {"x"}, {{"EXPIRY", expiry}}), clock);
  auto first = source.Get();
  REQUIRE(first.ok());
  CHECK(first->bearer_token == "token-1-x");
  clock.Advance(std::chrono::minutes(9));
  CHECK(source.Get()->bearer_token == "token-1-x");
  clock.Advance(std::chrono::minutes(2));
  CHECK(source.Get()->bearer_token == "token-2-x");
  // A 401 forces a fresh credential before expiry.
  source.Invalidate();
  CHECK(source.Get()->bearer_token == "token-3-x");
}

TEST_CASE("Exec plugin failures are specific and do not leak stdout", "[kube][exec]") {
  TempDir dir;
  SECTION("non-zero exit carries stderr") {
    const auto script =
        dir.Write("fail.sh", "#!/bin/sh\necho SECRET; echo 'login expired' >&2; exit 3\n", true);
    const auto cluster = ClusterWithPlugin(script, {});
    auto result = RunExecPlugin(*cluster.auth.exec, cluster, std::chrono::seconds(10));
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().message, Catch::Contains("exited with status 3: login expired"));
    CHECK_THAT(result.error().message, !Catch::Contains("SECRET"));
  }
  SECTION("stderr that is long and not UTF-8 is cut to valid UTF-8") {
    // 299 ASCII bytes, then a two-byte character across the old 300-byte cut,
    // then bytes that are no UTF-8 at all.
    const auto script =
        dir.Write("noisy.sh",
                  "#!/bin/sh\nprintf '%0299d\\303\\251\\377\\376 and more' 0 >&2; exit 1\n", true);
    const auto cluster = ClusterWithPlugin(script, {});
    auto result = RunExecPlugin(*cluster.auth.exec, cluster, std::chrono::seconds(10));
    REQUIRE_FALSE(result.ok());
    CHECK(IsValidUtf8(result.error().message));
    CHECK_THAT(result.error().message, Catch::Contains("exited with status 1: 000"));
    CHECK_THAT(result.error().message, Catch::EndsWith("..."));
  }
  SECTION("missing command") {
    auto cluster = ClusterWithPlugin((dir.path() / "nope").string(), {});
    cluster.auth.exec->install_hint = "install the nope plugin";
    auto result = RunExecPlugin(*cluster.auth.exec, cluster, std::chrono::seconds(10));
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().message, Catch::Contains("install the nope plugin"));
  }
  SECTION("timeout") {
    const auto script = dir.Write("slow.sh", "#!/bin/sh\nexec sleep 30\n", true);
    const auto cluster = ClusterWithPlugin(script, {});
    auto result = RunExecPlugin(*cluster.auth.exec, cluster, std::chrono::milliseconds(200));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kUnavailable);
    CHECK_THAT(result.error().message, Catch::Contains("timed out"));
  }
}

TEST_CASE("ExecCredential output is validated", "[kube][exec]") {
  constexpr std::string_view kV1 = "client.authentication.k8s.io/v1";
  CHECK_FALSE(ParseExecCredential("not json", kV1).ok());
  CHECK_FALSE(ParseExecCredential(
                  R"({"kind":"ExecCredential","apiVersion":"x","status":{"token":"t"}})", kV1)
                  .ok());
  CHECK_FALSE(
      ParseExecCredential(
          R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{}})",
          kV1)
          .ok());
  CHECK_FALSE(
      ParseExecCredential(
          R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t","expirationTimestamp":"soon"}})",
          kV1)
          .ok());
  CHECK_FALSE(
      ParseExecCredential(
          R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"x"}})",
          kV1)
          .ok());
  auto ok = ParseExecCredential(
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t","expirationTimestamp":"2030-01-02T03:04:05Z"}})",
      kV1);
  REQUIRE(ok.ok());
  CHECK(ok->expiration == ParseRfc3339("2030-01-02T03:04:05Z"));
}

TEST_CASE("Token files are re-read after the refresh interval and after a 401", "[kube][token]") {
  TempDir dir;
  ManualClock clock;
  ClusterConfig cluster;
  cluster.name = "east";
  cluster.auth.token_file = dir.Write("token", "one\n");
  CredentialSource source(cluster, clock, {std::chrono::seconds(60), std::chrono::seconds(5)});
  CHECK(source.Get()->bearer_token == "one");
  dir.Write("token", "two");
  CHECK(source.Get()->bearer_token == "one");
  clock.Advance(std::chrono::seconds(61));
  CHECK(source.Get()->bearer_token == "two");
  dir.Write("token", "three");
  source.Invalidate();
  CHECK(source.Get()->bearer_token == "three");
  // A vanished file keeps the last token (a rotation may be in progress).
  std::filesystem::remove(dir.path() / "token");
  source.Invalidate();
  CHECK(source.Get()->bearer_token == "three");
}

}  // namespace
}  // namespace globalsvc::kube
