#include "lib/kube/kubeconfig.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lib/base/yaml_json.h"
#include "lib/kube/kubeconfig_document.h"
#include "lib/kube/kubeconfig_entries.h"
#include "lib/kube/pem.h"
#include "lib/kube/server_url.h"

namespace globalsvc::kube {
namespace {

using nlohmann::json;
using namespace kubeconfig;

Result<ClusterConfig> Resolve(const MergedConfig& merged, std::string_view context,
                              std::string_view sources) {
  std::string context_name(context);
  if (context_name.empty()) {
    if (merged.current_context.empty()) {
      return FieldError(sources, "current-context", "not set and no context was asked for");
    }
    context_name = merged.current_context;
  }
  const auto ctx = merged.contexts.find(context_name);
  if (ctx == merged.contexts.end()) {
    return FieldError(context.empty() ? merged.current_context_source : std::string(sources),
                      "contexts[name=" + context_name + "]", "no such context");
  }
  const std::string where = "contexts[name=" + context_name + "].context";
  auto cluster_name = StringField(ctx->second.body, "cluster", ctx->second.source, where);
  if (!cluster_name.ok()) return cluster_name.error();
  if (cluster_name->empty()) return FieldError(ctx->second.source, where + ".cluster", "missing");
  auto user_name = StringField(ctx->second.body, "user", ctx->second.source, where);
  if (!user_name.ok()) return user_name.error();
  auto namespace_name = StringField(ctx->second.body, "namespace", ctx->second.source, where);
  if (!namespace_name.ok()) return namespace_name.error();

  ClusterConfig config;
  config.name = context_name;
  config.source = ctx->second.source;
  config.namespace_name = *namespace_name;
  const auto cluster = merged.clusters.find(*cluster_name);
  if (cluster == merged.clusters.end()) {
    return FieldError(ctx->second.source, where + ".cluster",
                      "names cluster " + *cluster_name + ", which is not defined");
  }
  if (auto status = LoadCluster(cluster->second, *cluster_name, config); !status.ok()) {
    return status.error();
  }
  if (!user_name->empty()) {
    const auto user = merged.users.find(*user_name);
    if (user == merged.users.end()) {
      return FieldError(ctx->second.source, where + ".user",
                        "names user " + *user_name + ", which is not defined");
    }
    if (auto status = LoadUser(user->second, *user_name, config.auth); !status.ok()) {
      return status.error();
    }
  }
  return config;
}

std::string DirectoryOf(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return std::filesystem::current_path().string();
  return std::filesystem::absolute(parent).lexically_normal().string();
}

// Refuses, in a kubeconfig that came from cluster data, every field that
// reaches outside the document or weakens TLS. Checked before anything is
// read, so a refused file is never opened.
Status CheckInlineOnly(const MergedConfig& merged) {
  constexpr std::string_view kWhy =
      "is not allowed in a kubeconfig from a Secret (it would act on the controller's own "
      "files, commands or TLS checks); embed the data instead (certificate-authority-data, "
      "client-certificate-data, client-key-data, token)";
  for (const auto& [name, entry] : merged.clusters) {
    const std::string where = "clusters[name=" + name + "].cluster.";
    if (entry.body.contains("certificate-authority")) {
      return FieldError(entry.source, where + "certificate-authority", kWhy);
    }
    if (auto insecure = entry.body.find("insecure-skip-tls-verify");
        insecure != entry.body.end() && *insecure != false) {
      return FieldError(entry.source, where + "insecure-skip-tls-verify", kWhy);
    }
  }
  for (const auto& [name, entry] : merged.users) {
    const std::string where = "users[name=" + name + "].user.";
    for (const char* field : {"client-certificate", "client-key", "tokenFile", "exec"}) {
      if (entry.body.contains(field)) return FieldError(entry.source, where + field, kWhy);
    }
  }
  return Ok{};
}

}  // namespace

Result<ClusterConfig> ParseKubeconfig(std::string_view text, std::string_view source,
                                      std::string_view base_dir, std::string_view context,
                                      KubeconfigTrust trust) {
  MergedConfig merged;
  if (auto status = MergeDocument(text, source, base_dir, merged); !status.ok()) {
    return status.error();
  }
  if (trust == KubeconfigTrust::kClusterData) {
    if (auto status = CheckInlineOnly(merged); !status.ok()) return status.error();
  }
  auto resolved = Resolve(merged, context, source);
  // Without its own CA, a remote would be trusted through the system store:
  // any public certificate for the address would do.
  if (resolved.ok() && trust == KubeconfigTrust::kClusterData &&
      resolved->certificate_authority_pem.empty()) {
    return MakeError(ErrorCode::kInvalidInput,
                     std::string(source) +
                         ": the cluster has no certificate-authority-data; a kubeconfig from a "
                         "Secret must carry the CA that signs the API server's certificate");
  }
  return resolved;
}

Result<ClusterConfig> LoadKubeconfigFiles(const std::vector<std::string>& paths,
                                          std::string_view context) {
  MergedConfig merged;
  std::string sources;
  for (const auto& path : paths) {
    if (path.empty()) continue;
    const std::string source = "kubeconfig " + path;
    auto text = ReadFile(path);
    if (!text.ok()) return MakeError(ErrorCode::kInvalidInput, source + ": cannot be read");
    if (auto status = MergeDocument(*text, source, DirectoryOf(path), merged); !status.ok()) {
      return status.error();
    }
    sources += sources.empty() ? source : ", " + path;
  }
  if (sources.empty()) return MakeError(ErrorCode::kInvalidInput, "no kubeconfig file given");
  return Resolve(merged, context, sources);
}

Result<ClusterConfig> LoadKubeconfig(std::string_view explicit_path, std::string_view context) {
  std::vector<std::string> paths;
  if (!explicit_path.empty()) {
    paths.emplace_back(explicit_path);
  } else if (const char* list = std::getenv("KUBECONFIG"); list != nullptr && *list != '\0') {
    std::string_view rest(list);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      // Missing files in the list are skipped, as kubectl does.
      std::string path(rest.substr(0, colon));
      if (!path.empty() && std::filesystem::exists(path)) paths.push_back(path);
      rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
    }
    if (paths.empty()) {
      return MakeError(ErrorCode::kInvalidInput, "KUBECONFIG names no existing file");
    }
  } else if (const char* home = std::getenv("HOME"); home != nullptr) {
    paths.push_back(std::string(home) + "/.kube/config");
  } else {
    return MakeError(ErrorCode::kInvalidInput, "no kubeconfig: set --kubeconfig or KUBECONFIG");
  }
  return LoadKubeconfigFiles(paths, context);
}

}  // namespace globalsvc::kube
