#include "lib/kube/kubeconfig.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lib/base/yaml_json.h"
#include "lib/kube/pem.h"
#include "lib/kube/server_url.h"

namespace globalsvc::kube {
namespace {

using nlohmann::json;

// One named entry (cluster, user or context) and the file that defined it:
// relative paths resolve against that file's folder.
struct NamedEntry {
  json body;
  std::string source;
  std::string base_dir;
};

struct MergedConfig {
  std::map<std::string, NamedEntry> clusters;
  std::map<std::string, NamedEntry> users;
  std::map<std::string, NamedEntry> contexts;
  std::string current_context;
  std::string current_context_source;
};

Error FieldError(std::string_view source, std::string_view field, std::string_view problem) {
  return MakeError(ErrorCode::kInvalidInput,
                   std::string(source) + ": " + std::string(field) + ": " + std::string(problem));
}

std::string ResolvePath(std::string_view base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kInvalidInput, "cannot read file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Reads an optional string field; a present non-string is an error.
Result<std::string> StringField(const json& object, std::string_view key, std::string_view source,
                                std::string_view field_path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return FieldError(source, std::string(field_path) + "." + std::string(key), "must be a string");
  }
  return it->get<std::string>();
}

Result<bool> BoolField(const json& object, std::string_view key, std::string_view source,
                       std::string_view field_path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    return FieldError(source, std::string(field_path) + "." + std::string(key),
                      "must be true or false");
  }
  return it->get<bool>();
}

Status MergeNamedList(const json& doc, std::string_view list_key, std::string_view body_key,
                      std::string_view source, std::string_view base_dir,
                      std::map<std::string, NamedEntry>& into) {
  const auto it = doc.find(list_key);
  if (it == doc.end() || it->is_null()) return Ok{};
  if (!it->is_array()) return FieldError(source, list_key, "must be a list");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& entry = (*it)[i];
    const std::string where = std::string(list_key) + "[" + std::to_string(i) + "]";
    if (!entry.is_object()) return FieldError(source, where, "must be a mapping");
    const auto name = entry.find("name");
    if (name == entry.end() || !name->is_string() || name->get<std::string>().empty()) {
      return FieldError(source, where + ".name", "missing or not a string");
    }
    const auto body = entry.find(body_key);
    if (body == entry.end() || !body->is_object()) {
      return FieldError(source, where + "." + std::string(body_key), "missing or not a mapping");
    }
    // The first file to define a name wins, as with kubectl.
    into.try_emplace(name->get<std::string>(),
                     NamedEntry{*body, std::string(source), std::string(base_dir)});
  }
  return Ok{};
}

Status MergeDocument(std::string_view text, std::string_view source, std::string_view base_dir,
                     MergedConfig& merged) {
  auto docs = ParseYamlDocuments(text);
  if (!docs.ok()) {
    return MakeError(ErrorCode::kInvalidInput,
                     std::string(source) + ": not valid YAML: " + docs.error().message);
  }
  if (docs->empty()) return Ok{};  // an empty file contributes nothing, as with kubectl
  if (docs->size() != 1) return FieldError(source, "document", "must be a single YAML document");
  const json& doc = docs->front();
  if (!doc.is_object()) return FieldError(source, "document", "must be a mapping");
  if (auto kind = doc.find("kind"); kind != doc.end() && *kind != "Config") {
    return FieldError(source, "kind", "must be Config");
  }
  for (const auto& [list, body] : {std::pair{"clusters", "cluster"}, std::pair{"users", "user"},
                                   std::pair{"contexts", "context"}}) {
    auto& target = std::string_view(list) == "clusters" ? merged.clusters
                   : std::string_view(list) == "users"  ? merged.users
                                                        : merged.contexts;
    if (auto status = MergeNamedList(doc, list, body, source, base_dir, target); !status.ok()) {
      return status.error();
    }
  }
  auto current = StringField(doc, "current-context", source, "");
  if (!current.ok()) return FieldError(source, "current-context", "must be a string");
  if (merged.current_context.empty() && !current->empty()) {
    merged.current_context = *current;
    merged.current_context_source = std::string(source);
  }
  return Ok{};
}

// Fills `out` from `<name>` (a file path) or `<name>-data` (base64), not both.
Status LoadPemField(const NamedEntry& entry, std::string_view field_path, std::string_view name,
                    std::string& out) {
  const std::string data_key = std::string(name) + "-data";
  auto path = StringField(entry.body, name, entry.source, field_path);
  if (!path.ok()) return path.error();
  auto data = StringField(entry.body, data_key, entry.source, field_path);
  if (!data.ok()) return data.error();
  const std::string field = std::string(field_path) + "." + std::string(name);
  if (!path->empty() && !data->empty()) {
    return FieldError(entry.source, field, "set together with " + data_key + "; use one");
  }
  if (!data->empty()) {
    auto decoded = DecodeBase64(*data);
    if (!decoded) return FieldError(entry.source, field + "-data", "not valid base64");
    out = std::move(*decoded);
  } else if (!path->empty()) {
    auto text = ReadFile(ResolvePath(entry.base_dir, *path));
    if (!text.ok()) return FieldError(entry.source, field, text.error().message);
    out = std::move(*text);
  }
  return Ok{};
}

Status LoadCluster(const NamedEntry& entry, const std::string& name, ClusterConfig& config) {
  const std::string where = "clusters[name=" + name + "].cluster";
  const json& body = entry.body;
  auto server = StringField(body, "server", entry.source, where);
  if (!server.ok()) return server.error();
  if (server->empty()) return FieldError(entry.source, where + ".server", "missing");
  if (auto url = ParseServerUrl(*server); !url.ok()) {
    return FieldError(entry.source, where + ".server", url.error().message);
  }
  config.server = *server;
  if (auto status =
          LoadPemField(entry, where, "certificate-authority", config.certificate_authority_pem);
      !status.ok()) {
    return status;
  }
  if (!config.certificate_authority_pem.empty() &&
      !IsCertificatePem(config.certificate_authority_pem)) {
    return FieldError(entry.source, where + ".certificate-authority[-data]",
                      "holds no PEM certificate");
  }
  auto server_name = StringField(body, "tls-server-name", entry.source, where);
  if (!server_name.ok()) return server_name.error();
  config.tls_server_name = *server_name;
  auto insecure = BoolField(body, "insecure-skip-tls-verify", entry.source, where);
  if (!insecure.ok()) return insecure.error();
  config.insecure_skip_tls_verify = *insecure;
  if (config.insecure_skip_tls_verify && !config.certificate_authority_pem.empty()) {
    return FieldError(entry.source, where + ".insecure-skip-tls-verify",
                      "cannot be combined with certificate-authority[-data]");
  }
  if (auto proxy = StringField(body, "proxy-url", entry.source, where);
      !proxy.ok() || !proxy->empty()) {
    return FieldError(entry.source, where + ".proxy-url", "is not supported");
  }
  return Ok{};
}

Result<ExecPluginConfig> LoadExec(const NamedEntry& entry, const json& exec,
                                  const std::string& where) {
  if (!exec.is_object()) return FieldError(entry.source, where, "must be a mapping");
  ExecPluginConfig plugin;
  auto command = StringField(exec, "command", entry.source, where);
  if (!command.ok()) return command.error();
  if (command->empty()) return FieldError(entry.source, where + ".command", "missing");
  // Like kubectl: a command with a path separator is relative to the
  // kubeconfig's folder; a bare name is looked up in PATH.
  plugin.command =
      command->find('/') != std::string::npos ? ResolvePath(entry.base_dir, *command) : *command;
  auto api_version = StringField(exec, "apiVersion", entry.source, where);
  if (!api_version.ok()) return api_version.error();
  if (*api_version != "client.authentication.k8s.io/v1" &&
      *api_version != "client.authentication.k8s.io/v1beta1") {
    return FieldError(
        entry.source, where + ".apiVersion",
        api_version->empty() ? "missing" : "unsupported; use client.authentication.k8s.io/v1");
  }
  plugin.api_version = *api_version;
  if (auto args = exec.find("args"); args != exec.end() && !args->is_null()) {
    if (!args->is_array()) return FieldError(entry.source, where + ".args", "must be a list");
    for (const auto& arg : *args) {
      if (!arg.is_string()) {
        return FieldError(entry.source, where + ".args", "must be a list of strings");
      }
      plugin.args.push_back(arg.get<std::string>());
    }
  }
  if (auto env = exec.find("env"); env != exec.end() && !env->is_null()) {
    if (!env->is_array()) return FieldError(entry.source, where + ".env", "must be a list");
    for (std::size_t i = 0; i < env->size(); ++i) {
      const json& var = (*env)[i];
      const std::string var_where = where + ".env[" + std::to_string(i) + "]";
      if (!var.is_object() || !var.contains("name") || !var["name"].is_string() ||
          var["name"].get<std::string>().empty()) {
        return FieldError(entry.source, var_where + ".name", "missing or not a string");
      }
      auto value = StringField(var, "value", entry.source, var_where);
      if (!value.ok()) return value.error();
      plugin.env.emplace_back(var["name"].get<std::string>(), *value);
    }
  }
  auto cluster_info = BoolField(exec, "provideClusterInfo", entry.source, where);
  if (!cluster_info.ok()) return cluster_info.error();
  plugin.provide_cluster_info = *cluster_info;
  auto mode = StringField(exec, "interactiveMode", entry.source, where);
  if (!mode.ok()) return mode.error();
  if (*mode == "Always") {
    return FieldError(entry.source, where + ".interactiveMode",
                      "Always is not possible for a controller without a terminal");
  }
  auto hint = StringField(exec, "installHint", entry.source, where);
  if (hint.ok()) plugin.install_hint = *hint;
  return plugin;
}

Status LoadUser(const NamedEntry& entry, const std::string& name, AuthConfig& auth) {
  const std::string where = "users[name=" + name + "].user";
  const json& body = entry.body;
  for (const char* unsupported : {"auth-provider", "username", "password", "as", "as-groups"}) {
    if (body.contains(unsupported)) {
      return FieldError(entry.source, where + "." + unsupported,
                        "is not supported (use a token, client certificate or exec plugin)");
    }
  }
  if (auto status = LoadPemField(entry, where, "client-certificate", auth.client_certificate_pem);
      !status.ok()) {
    return status;
  }
  if (auto status = LoadPemField(entry, where, "client-key", auth.client_key_pem); !status.ok()) {
    return status;
  }
  if (auth.client_certificate_pem.empty() != auth.client_key_pem.empty()) {
    return FieldError(entry.source,
                      where + (auth.client_key_pem.empty() ? ".client-key" : ".client-certificate"),
                      "missing: a client certificate needs its key and the key its certificate");
  }
  if (!auth.client_certificate_pem.empty() && !IsCertificatePem(auth.client_certificate_pem)) {
    return FieldError(entry.source, where + ".client-certificate[-data]",
                      "holds no PEM certificate");
  }
  if (!auth.client_key_pem.empty() && !IsPrivateKeyPem(auth.client_key_pem)) {
    return FieldError(entry.source, where + ".client-key[-data]", "holds no readable PEM key");
  }
  auto token = StringField(body, "token", entry.source, where);
  if (!token.ok()) return token.error();
  auth.token = *token;
  auto token_file = StringField(body, "tokenFile", entry.source, where);
  if (!token_file.ok()) return token_file.error();
  if (!token_file->empty()) {
    auth.token_file = ResolvePath(entry.base_dir, *token_file);
    // Fail at load time on an unreadable file; rotation re-reads it later.
    if (auto text = ReadFile(auth.token_file); !text.ok()) {
      return FieldError(entry.source, where + ".tokenFile", text.error().message);
    }
  }
  if (auto exec = body.find("exec"); exec != body.end() && !exec->is_null()) {
    if (!auth.token.empty() || !auth.token_file.empty()) {
      return FieldError(entry.source, where + ".exec",
                        "cannot be combined with token or tokenFile; use one");
    }
    auto plugin = LoadExec(entry, *exec, where + ".exec");
    if (!plugin.ok()) return plugin.error();
    auth.exec = std::move(*plugin);
  }
  return Ok{};
}

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

Result<ClusterConfig> LoadInClusterConfig(const InClusterSource& source) {
  std::string host = source.host;
  std::string port = source.port;
  if (host.empty()) {
    const char* env_host = std::getenv("KUBERNETES_SERVICE_HOST");
    const char* env_port = std::getenv("KUBERNETES_SERVICE_PORT");
    if (env_host == nullptr || *env_host == '\0' || env_port == nullptr || *env_port == '\0') {
      return MakeError(ErrorCode::kInvalidInput,
                       "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                       "must be set (not running in a pod?)");
    }
    host = env_host;
    port = env_port;
  }
  ClusterConfig config;
  config.name = "in-cluster";
  config.source = "in-cluster config " + source.service_account_dir;
  const bool ipv6 = host.find(':') != std::string::npos;
  config.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
  if (auto url = ParseServerUrl(config.server); !url.ok()) {
    return FieldError(config.source, "KUBERNETES_SERVICE_HOST/PORT", url.error().message);
  }
  const std::string token_path = source.service_account_dir + "/token";
  if (auto token = ReadFile(token_path); !token.ok()) {
    return FieldError(config.source, "token", "cannot read " + token_path);
  }
  config.auth.token_file = token_path;
  auto ca = ReadFile(source.service_account_dir + "/ca.crt");
  if (!ca.ok() || !IsCertificatePem(*ca)) {
    return FieldError(config.source, "ca.crt", "missing or holds no PEM certificate");
  }
  config.certificate_authority_pem = std::move(*ca);
  if (auto ns = ReadFile(source.service_account_dir + "/namespace"); ns.ok()) {
    std::string value = *ns;
    while (!value.empty() && (value.back() == '\n' || value.back() == ' '))
      value.pop_back();
    config.namespace_name = value;
  }
  return config;
}

}  // namespace globalsvc::kube
