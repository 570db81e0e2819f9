// Fuzz target for the kubeconfig parser, fed the way a remote Secret's
// kubeconfig is (no base folder), under both trusts: an operator's file and
// a Secret's data. Invariants:
// - an accepted config is one the client can use: a server URL, a CA or
//   insecure-skip-tls-verify but not both, a client certificate only with
//   its key; from a Secret, also an inline CA and no file, command or
//   skipped verification;
// - error messages never carry a credential: a token or client key that
//   appears exactly once in the input (so nothing else, such as a name, can
//   be its source) never appears in the message, unless it is the message's
//   own words (the message keeps it when the credential is changed).

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/yaml_json.h"
#include "lib/kube/kubeconfig.h"
#include "lib/kube/server_url.h"
#include "test/fuzz/fuzz_check.h"

namespace {

std::size_t Occurrences(std::string_view text, std::string_view part) {
  std::size_t count = 0;
  for (std::size_t at = text.find(part); at != std::string_view::npos;
       at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

// The credential strings of every user entry, as the YAML spells them.
std::vector<std::string> Credentials(std::string_view text) {
  std::vector<std::string> found;
  auto docs = globalsvc::ParseYamlDocuments(text);
  if (!docs.ok() || docs->size() != 1) return found;
  const nlohmann::json& doc = docs->front();
  if (!doc.is_object()) return found;
  const auto users = doc.find("users");
  if (users == doc.end() || !users->is_array()) return found;
  for (const auto& entry : *users) {
    if (!entry.is_object()) continue;
    const auto user = entry.find("user");
    if (user == entry.end() || !user->is_object()) continue;
    for (const char* key : {"token", "client-key-data"}) {
      const auto value = user->find(key);
      if (value != user->end() && value->is_string() && value->get<std::string>().size() >= 8) {
        found.push_back(value->get<std::string>());
      }
    }
  }
  return found;
}

void CheckAccepted(const globalsvc::kube::ClusterConfig& config) {
  FUZZ_CHECK(!config.server.empty());
  FUZZ_CHECK(globalsvc::kube::ParseServerUrl(config.server).ok());
  FUZZ_CHECK(!(config.insecure_skip_tls_verify && !config.certificate_authority_pem.empty()));
  FUZZ_CHECK(config.auth.client_certificate_pem.empty() == config.auth.client_key_pem.empty());
  FUZZ_CHECK(
      !(config.auth.exec && (!config.auth.token.empty() || !config.auth.token_file.empty())));
  if (config.auth.exec) FUZZ_CHECK(!config.auth.exec->command.empty());
}

// What a Secret's kubeconfig may not do: read files, run commands, skip TLS
// verification or rely on the system's CAs.
void CheckAcceptedFromSecret(const globalsvc::kube::ClusterConfig& config) {
  FUZZ_CHECK(!config.insecure_skip_tls_verify);
  FUZZ_CHECK(!config.certificate_authority_pem.empty());
  FUZZ_CHECK(!config.auth.exec);
  FUZZ_CHECK(config.auth.token_file.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using globalsvc::kube::KubeconfigTrust;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const KubeconfigTrust trust :
       {KubeconfigTrust::kOperatorFile, KubeconfigTrust::kClusterData}) {
    for (std::string_view context : {std::string_view(), std::string_view("ctx")}) {
      auto config = globalsvc::kube::ParseKubeconfig(text, "secret s key k", "", context, trust);
      if (config.ok()) {
        CheckAccepted(*config);
        if (trust == KubeconfigTrust::kClusterData) CheckAcceptedFromSecret(*config);
        continue;
      }
      for (const std::string& credential : Credentials(text)) {
        if (Occurrences(text, credential) != 1) continue;
        if (config.error().message.find(credential) == std::string::npos) continue;
        // The text is in the message: a leak only if it came from the
        // credential. With the credential's characters changed, a message
        // that still holds the text got it from elsewhere (the fuzzer may
        // spell a token like the message's own words).
        std::string changed(text);
        const std::size_t at = changed.find(credential);
        for (std::size_t i = 0; i < credential.size(); ++i)
          changed[at + i] = credential[i] == 'Q' ? 'R' : 'Q';
        auto again =
            globalsvc::kube::ParseKubeconfig(changed, "secret s key k", "", context, trust);
        FUZZ_CHECK(!again.ok() && again.error().message.find(credential) != std::string::npos);
      }
    }
  }
  return 0;
}
