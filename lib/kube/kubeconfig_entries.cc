#include "lib/kube/kubeconfig_entries.h"

#include "lib/kube/pem.h"
#include "lib/kube/server_url.h"

namespace globalsvc::kube::kubeconfig {
namespace {

using nlohmann::json;

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

}  // namespace

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

}  // namespace globalsvc::kube::kubeconfig
