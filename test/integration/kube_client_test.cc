// KubeClient against a real kube-apiserver: paging, watch order, bookmarks,
// server-side apply, preconditions, status, and each authentication failure.

#include "lib/kube/kube_client.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "lib/kube/pem.h"
#include "test/integration/kube_test_bed.h"

namespace globalsvc::kube {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using testing::ConfigMap;
using testing::MakeClient;
using testing::RequireTestBed;
using testing::ScratchNamespace;

// Creates `count` labelled ConfigMaps with four parallel writers.
void CreateConfigMaps(KubeClient& client, const std::string& ns, int count) {
  std::vector<std::thread> writers;
  std::atomic<int> failures = 0;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < count; i += 4) {
        if (!client
                 .Create(resources::ConfigMaps(), ns, ConfigMap(ns, "cm-" + std::to_string(i), "v"))
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& writer : writers)
    writer.join();
  REQUIRE(failures == 0);
}

TEST_CASE("List pages through 5000 objects", "[integration][kube]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-list");
  CreateConfigMaps(*client, ns.name(), 5000);

  ListOptions options;
  options.limit = 500;
  options.label_selector = testing::kTestSelector;
  auto list = client->List(resources::ConfigMaps(), ns.name(), options);
  REQUIRE(list.ok());
  CHECK(list->items.size() == 5000);
  // Filtering by label can leave a last, empty page.
  CHECK(list->pages >= 10);
  CHECK(list->pages <= 11);
  CHECK_FALSE(list->resource_version.empty());
  std::set<std::string> names;
  for (const auto& item : list->items)
    names.insert(item["metadata"]["name"].get<std::string>());
  CHECK(names.size() == 5000);
}

TEST_CASE("Watch sees add, update and delete in order, and bookmarks", "[integration][kube]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-watch");
  auto list = client->List(resources::ConfigMaps(), ns.name());
  REQUIRE(list.ok());

  std::mutex mutex;
  std::vector<std::string> seen;
  int bookmarks = 0;
  std::string last_version = list->resource_version;
  std::string bookmark_version;
  const auto handler = [&](WatchEvent&& event) {
    std::lock_guard lock(mutex);
    last_version = event.object["metadata"]["resourceVersion"].get<std::string>();
    if (event.type == WatchEventType::kBookmark) {
      ++bookmarks;
      bookmark_version = last_version;
    } else {
      seen.push_back(std::string(WatchEventTypeName(event.type)) + " " +
                     event.object["metadata"]["name"].get<std::string>() + " " +
                     event.object["data"].value("value", ""));
    }
    return true;
  };
  WatchOptions options;
  options.resource_version = list->resource_version;
  options.label_selector = testing::kTestSelector;
  options.timeout = 5s;  // the server sends a bookmark shortly before it ends the watch
  Status watch_status = Ok{};
  std::thread watcher([&] {
    watch_status = client->Watch(resources::ConfigMaps(), ns.name(), options, handler, {});
  });
  auto created = client->Create(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "w", "1"));
  REQUIRE(created.ok());
  (*created)["data"]["value"] = "2";
  REQUIRE(client->Update(resources::ConfigMaps(), ns.name(), *created).ok());
  REQUIRE(client->Delete(resources::ConfigMaps(), ns.name(), "w").ok());
  watcher.join();  // the server ends the watch after 5 s
  REQUIRE(watch_status.ok());
  CHECK(seen == std::vector<std::string>{"ADDED w 1", "MODIFIED w 2", "DELETED w 2"});
  const std::string delete_version = last_version;

  // Bookmarks are best effort: watch on from the last version until one came.
  for (int attempt = 0; attempt < 10 && bookmarks == 0; ++attempt) {
    options.resource_version = last_version;
    REQUIRE(client->Watch(resources::ConfigMaps(), ns.name(), options, handler, {}).ok());
  }
  REQUIRE(bookmarks >= 1);
  CHECK(std::stoull(bookmark_version) >= std::stoull(delete_version));
  CHECK(seen.size() == 3);
}

TEST_CASE(
    "A watch that hears nothing after the server's answer ends quietly at the silence timeout",
    "[integration][kube]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-quiet");
  auto list = client->List(resources::ConfigMaps(), ns.name());
  REQUIRE(list.ok());
  WatchOptions options;
  options.resource_version = list->resource_version;
  options.label_selector = testing::kTestSelector;
  options.timeout = 300s;
  // Nothing changes and no bookmark comes this soon: only the headers arrive.
  options.silence_timeout = 2s;
  int events = 0;
  const auto started = std::chrono::steady_clock::now();
  const Status status = client->Watch(resources::ConfigMaps(), ns.name(), options,
                                      [&](WatchEvent&&) { return ++events, true; }, {});
  const auto took = std::chrono::steady_clock::now() - started;
  INFO((status.ok() ? std::string("ok") : status.error().message));
  CHECK(status.ok());  // a silent but answered watch is not a failure
  CHECK(events == 0);
  CHECK(took >= 1s);
  CHECK(took < 60s);
}

TEST_CASE("Server-side apply of the same object twice is a no-op", "[integration][kube]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-apply");
  json object = ConfigMap(ns.name(), "applied", "x");
  object["metadata"]["labels"] = {{"app.kubernetes.io/managed-by", "globalsvc"}};
  const ApplyOptions apply{"globalsvc", true, ""};
  auto first = client->Apply(resources::ConfigMaps(), ns.name(), object, apply);
  REQUIRE(first.ok());
  auto second = client->Apply(resources::ConfigMaps(), ns.name(), object, apply);
  REQUIRE(second.ok());
  CHECK((*first)["metadata"]["resourceVersion"] == (*second)["metadata"]["resourceVersion"]);
  object["data"]["value"] = "y";
  auto third = client->Apply(resources::ConfigMaps(), ns.name(), object, apply);
  REQUIRE(third.ok());
  CHECK((*third)["metadata"]["resourceVersion"] != (*second)["metadata"]["resourceVersion"]);

  // Another manager changing our field conflicts unless forced.
  auto conflict =
      client->Apply(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "applied", "z"),
                    ApplyOptions{"someone-else", false, ""});
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.error().code == ErrorCode::kConflict);
  CHECK_THAT(conflict.error().message, Catch::Contains("conflict"));
}

TEST_CASE("Get, create conflicts and delete preconditions classify errors", "[integration][kube]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-errors");
  auto missing = client->Get(resources::ConfigMaps(), ns.name(), "nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK_THAT(missing.error().message, Catch::Contains("configmaps \"nope\" not found"));
  CHECK_THAT(missing.error().message, Catch::Contains(tb.cluster));

  auto created = client->Create(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "c", "1"));
  REQUIRE(created.ok());
  auto again = client->Create(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "c", "1"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kConflict);
  CHECK_THAT(again.error().message, Catch::Contains("AlreadyExists"));

  json stale = *created;
  stale["metadata"]["resourceVersion"] = "1";
  auto update = client->Update(resources::ConfigMaps(), ns.name(), stale);
  REQUIRE_FALSE(update.ok());
  CHECK(update.error().code == ErrorCode::kConflict);

  auto invalid =
      client->Create(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "Bad_Name", "1"));
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().code == ErrorCode::kInvalidInput);
  CHECK(invalid.error().http_status == 422);

  DeleteOptions wrong_uid;
  wrong_uid.uid = "00000000-0000-0000-0000-000000000000";
  auto refused = client->Delete(resources::ConfigMaps(), ns.name(), "c", wrong_uid);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kConflict);
  DeleteOptions right;
  right.uid = (*created)["metadata"]["uid"].get<std::string>();
  right.resource_version = (*created)["metadata"]["resourceVersion"].get<std::string>();
  CHECK(client->Delete(resources::ConfigMaps(), ns.name(), "c", right).ok());
}

TEST_CASE("A write the gate refuses is never sent, reads still are", "[integration][kube]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-fence");
  std::atomic<bool> leading = true;
  TransportOptions fenced = testing::UnlimitedTransport();
  fenced.may_write = [&] { return leading.load(); };
  auto writer = MakeClient(tb.config, fenced);
  REQUIRE(writer->Create(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "a", "1")).ok());
  leading = false;  // leadership lost while the next write waited
  auto refused = writer->Create(resources::ConfigMaps(), ns.name(), ConfigMap(ns.name(), "b", "1"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(refused.error().message, Catch::Contains("not sent"));
  CHECK_FALSE(writer->Delete(resources::ConfigMaps(), ns.name(), "a").ok());
  // Nothing reached the server: "b" does not exist, "a" still does.
  CHECK(client->Get(resources::ConfigMaps(), ns.name(), "b").error().code == ErrorCode::kNotFound);
  CHECK(writer->Get(resources::ConfigMaps(), ns.name(), "a").ok());
}

TEST_CASE("A client cancelled while its list waits on a silent server returns at once",
          "[integration][kube]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  // Cancelling fails every later request at once, without contacting anyone.
  client->CancelAll();
  const auto started = std::chrono::steady_clock::now();
  auto listed = client->List(resources::ConfigMaps(), "default");
  REQUIRE_FALSE(listed.ok());
  CHECK_THAT(listed.error().message, Catch::Contains("canceled"));
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("The status subresource is written apart from the spec", "[integration][kube]") {
  auto& tb = RequireTestBed();
  auto client = MakeClient(tb.config);
  ScratchNamespace ns(*client, "kube-status");
  json service = {{"apiVersion", "v1"},
                  {"kind", "Service"},
                  {"metadata", {{"name", "lb"}, {"namespace", ns.name()}}},
                  {"spec",
                   {{"type", "LoadBalancer"},
                    {"allocateLoadBalancerNodePorts", false},
                    {"ports", json::array({{{"port", 80}}})}}}};
  auto created = client->Create(resources::Services(), ns.name(), service);
  REQUIRE(created.ok());
  json with_status = *created;
  with_status["status"] = {{"loadBalancer", {{"ingress", json::array({{{"ip", "192.0.2.10"}}})}}}};
  auto updated = client->UpdateStatus(resources::Services(), ns.name(), with_status);
  REQUIRE(updated.ok());
  CHECK((*updated)["status"]["loadBalancer"]["ingress"][0]["ip"] == "192.0.2.10");

  json applied_status = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", "lb"}, {"namespace", ns.name()}}},
      {"status", {{"loadBalancer", {{"ingress", json::array({{{"ip", "192.0.2.11"}}})}}}}}};
  auto applied = client->Apply(resources::Services(), ns.name(), applied_status,
                               ApplyOptions{"globalsvc", true, "status"});
  REQUIRE(applied.ok());
  CHECK((*applied)["status"]["loadBalancer"]["ingress"][0]["ip"] == "192.0.2.11");
}

TEST_CASE("A wrong CA is a TLS error naming the cluster", "[integration][kube]") {
  auto& tb = RequireTestBed();
  ClusterConfig config = tb.config;
  // The client CA did not sign the serving certificate.
  std::ifstream in(tb.bed->state_dir() / tb.cluster / "pki" / "client-ca.crt");
  config.certificate_authority_pem.assign(std::istreambuf_iterator<char>(in), {});
  REQUIRE_FALSE(config.certificate_authority_pem.empty());
  auto client = MakeClient(config);
  auto result = client->Get(resources::Namespaces(), "", "default");
  REQUIRE_FALSE(result.ok());
  INFO(result.error().message);
  CHECK(result.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(result.error().message, Catch::Contains("cluster " + tb.cluster));
  CHECK_THAT(result.error().message, Catch::Contains("TLS"));
}

TEST_CASE("tls-server-name chooses the name the certificate is checked against",
          "[integration][kube]") {
  auto& tb = RequireTestBed();
  ClusterConfig config = tb.config;
  config.tls_server_name = "kubernetes.default.svc";  // in the serving certificate
  CHECK(MakeClient(config)->Get(resources::Namespaces(), "", "default").ok());
  config.tls_server_name = "not-the-api.example";
  auto wrong = MakeClient(config)->Get(resources::Namespaces(), "", "default");
  REQUIRE_FALSE(wrong.ok());
  CHECK_THAT(wrong.error().message, Catch::Contains("TLS"));
}

TEST_CASE("A bad token is 401 Unauthorized", "[integration][kube]") {
  auto& tb = RequireTestBed();
  ClusterConfig config = tb.config;
  config.auth = AuthConfig{};
  config.auth.token = "not-a-valid-token";
  auto result = MakeClient(config)->Get(resources::Namespaces(), "", "default");
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kUnauthorized);
  CHECK(result.error().http_status == 401);
  CHECK_THAT(result.error().message, !Catch::Contains("not-a-valid-token"));
}

TEST_CASE("A service account token from a token file without RBAC gets 403 Forbidden",
          "[integration][kube]") {
  auto& tb = RequireTestBed();
  auto admin = MakeClient(tb.config);
  ScratchNamespace ns(*admin, "kube-rbac");
  REQUIRE(admin
              ->Create(resources::ServiceAccounts(), ns.name(),
                       {{"apiVersion", "v1"},
                        {"kind", "ServiceAccount"},
                        {"metadata", {{"name", "nobody"}, {"namespace", ns.name()}}}})
              .ok());
  const auto token = tb.bed->Kubectl(tb.cluster, {"-n", ns.name(), "create", "token", "nobody"});
  REQUIRE(token.ok());
  const auto token_file = tb.bed->state_dir() / (ns.name() + ".token");
  std::ofstream(token_file) << token.out;

  ClusterConfig config = tb.config;
  config.auth = AuthConfig{};
  config.auth.token_file = token_file.string();
  auto result = MakeClient(config)->List(resources::ConfigMaps(), "kube-system");
  std::filesystem::remove(token_file);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kForbidden);
  CHECK_THAT(result.error().message,
             Catch::Contains("system:serviceaccount:" + ns.name() + ":nobody"));
}

TEST_CASE("An exec plugin's client certificate authenticates", "[integration][kube]") {
  auto& tb = RequireTestBed();
  const auto dir = tb.bed->state_dir() / "exec-plugin-test";
  std::filesystem::create_directories(dir);
  const json credential = {{"apiVersion", "client.authentication.k8s.io/v1"},
                           {"kind", "ExecCredential"},
                           {"status",
                            {{"clientCertificateData", tb.config.auth.client_certificate_pem},
                             {"clientKeyData", tb.config.auth.client_key_pem}}}};
  std::ofstream(dir / "credential.json") << credential.dump();
  const auto script = dir / "plugin.sh";
  std::ofstream(script) << "#!/bin/sh\ncat " << (dir / "credential.json").string() << "\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);

  ClusterConfig config = tb.config;
  config.auth = AuthConfig{};
  config.auth.exec =
      ExecPluginConfig{script.string(), {}, {}, "client.authentication.k8s.io/v1", false, ""};
  auto result = MakeClient(config)->Get(resources::Namespaces(), "", "default");
  std::filesystem::remove_all(dir);
  REQUIRE(result.ok());
  CHECK((*result)["metadata"]["name"] == "default");
}

}  // namespace
}  // namespace globalsvc::kube
