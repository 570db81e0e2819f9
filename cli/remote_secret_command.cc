// globalsvc remote-secret: a read-only identity in a remote cluster, and the
// globalsvc.solo.io/remote-cluster=true Secret that lets the OTHER clusters'
// controllers read it. Talks only to the remote cluster; the Secret is printed, never
// applied, so the caller decides where it goes:
//
//   globalsvc remote-secret --context cluster2 --name cluster2 |
//     kubectl --context cluster1 apply -f -
//
// The token is secret material: it appears in the printed Secret on stdout and
// nowhere else (no progress line, error or log names it).
//
// This file holds the flags and the output; reader_account.* does the work in
// the cluster and remote_secret_objects.cc builds the Secret.

#include <algorithm>
#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

#include "cli/commands.h"
#include "cli/dns_names.h"
#include "cli/flags.h"
#include "cli/reader_account.h"
#include "controller/remote_secret_labels.h"
#include "lib/base/yaml_json.h"
#include "lib/kube/kube_client.h"
#include "lib/kube/kubeconfig.h"
#include "lib/mesh/model.h"

namespace globalsvc::cli {
namespace {

constexpr const char* kRemoteSecretUsage =
    R"(Usage: globalsvc remote-secret --name CLUSTER [--context CONTEXT] [flags]

Prints, on standard output, the Secret that connects the OTHER clusters'
controllers to this (remote) cluster: labelled
globalsvc.solo.io/remote-cluster=true, named globalsvc-remote-CLUSTER, holding
a kubeconfig under the data key CLUSTER that reads this cluster with the token
of a reader ServiceAccount. istiod does not watch that label, so the Secret
never turns into istiod's own multicluster. Apply it in every other cluster:

  globalsvc remote-secret --context cluster2 --name cluster2 |
    kubectl --context cluster1 apply -f -

The command talks only to the cluster of --context. It reads the reader
ServiceAccount (the chart creates it with remoteReader.enabled=true), or with
--create-service-account creates it and binds it to the chart's reader
ClusterRole and Role. The token comes from the ServiceAccount's long-lived
token Secret (<service-account>-token), created when missing and waited for
until the cluster's token controller fills it in. The token is printed only
inside the Secret.

Flags:
      --name CLUSTER             this cluster's name in the mesh: the data key and
                                 the Secret's name (required)
      --context CONTEXT          kubeconfig context of this cluster (default:
                                 current-context)
      --kubeconfig FILE          kubeconfig (default: $KUBECONFIG, else ~/.kube/config)
      --namespace NS             control-plane namespace: of the reader Role here
                                 (default istio-system)
      --secret-namespace NS      namespace of the printed Secret (default
                                 globalsvc-remotes, the chart's; an install that
                                 keeps them in istio-system says so in its NOTES)
      --reader-namespace NS      namespace of the reader ServiceAccount
                                 (default istio-system)
      --service-account NAME     the reader ServiceAccount (default globalsvc-reader)
      --reader-role NAME         the chart's reader ClusterRole and Role
                                 (default globalsvc-reader, the chart's for release
                                 globalsvc)
      --create-service-account   create the ServiceAccount and its bindings when
                                 missing
      --server URL               API server URL the other clusters use (default: the
                                 kubeconfig's)
      --timeout SECONDS          how long to wait for the token (default 30)

Exit code 0 when printed, 1 when the cluster refused or the token did not
appear, 2 on usage errors.
)";

// What the flags ask for, all checked before anything connects.
struct RemoteSecretOptions {
  std::string name;  // --name: the data key and the Secret's name
  ReaderIdentity reader;
  std::string secret_namespace;
  int timeout_seconds = 30;
  std::optional<std::string> server;  // --server; else the kubeconfig's
  std::string kubeconfig;
  std::string context;
  bool create_service_account = false;
};

bool IsLoopbackServer(const std::string& server) {
  for (const char* prefix : {"https://127.", "https://localhost", "https://[::1]"}) {
    if (server.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

bool ParseSeconds(const std::string& text, int& out) {
  if (text.empty() || text.size() > 6 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  out = std::stoi(text);
  return out > 0;
}

// Fills `options` from `flags`; the first usage error, if any, in the order
// the user reads the flags' help.
std::optional<std::string> ReadOptions(const ParsedFlags& flags, RemoteSecretOptions& options) {
  if (!flags.positional().empty()) return "takes no positional arguments";
  const auto name = flags.Get("--name");
  if (!name) return "needs --name CLUSTER";
  if (!IsDnsLabel(*name)) return "--name '" + *name + "' is not a DNS label";
  options.name = *name;

  ReaderIdentity& reader = options.reader;
  reader.control_plane_namespace = flags.GetOr("--namespace", mesh::kDefaultControlPlaneNamespace);
  reader.service_account_namespace =
      flags.GetOr("--reader-namespace", mesh::kDefaultControlPlaneNamespace);
  reader.service_account = flags.GetOr("--service-account", "globalsvc-reader");
  reader.reader_role = flags.GetOr("--reader-role", "globalsvc-reader");
  options.secret_namespace =
      flags.GetOr("--secret-namespace", controller::kDefaultRemoteSecretNamespace);
  for (const auto& [flag, value] :
       {std::pair{"--namespace", reader.control_plane_namespace},
        std::pair{"--reader-namespace", reader.service_account_namespace},
        std::pair{"--secret-namespace", options.secret_namespace}}) {
    if (!IsDnsLabel(value)) return std::string(flag) + " '" + value + "' is not a DNS label";
  }
  for (const auto& [flag, value] : {std::pair{"--service-account", reader.service_account},
                                    std::pair{"--reader-role", reader.reader_role}}) {
    if (!IsDnsSubdomain(value)) return std::string(flag) + " '" + value + "' is not valid";
  }
  if (auto text = flags.Get("--timeout"); text && !ParseSeconds(*text, options.timeout_seconds)) {
    return "--timeout takes a positive number of seconds";
  }
  options.server = flags.Get("--server");
  if (options.server && options.server->rfind("https://", 0) != 0) {
    return "--server must be an https:// URL";
  }
  options.kubeconfig = flags.GetOr("--kubeconfig", "");
  options.context = flags.GetOr("--context", "");
  options.create_service_account = flags.Has("--create-service-account");
  return std::nullopt;
}

// The cluster of --context, refused when nothing read through it can be trusted.
Result<kube::ClusterConfig> LoadVerifiedCluster(const RemoteSecretOptions& options) {
  auto cluster = kube::LoadKubeconfig(options.kubeconfig, options.context);
  if (!cluster.ok()) return cluster.error();
  if (cluster->insecure_skip_tls_verify && cluster->certificate_authority_pem.empty()) {
    // The CA would come from the token Secret, read over a connection whose
    // server was never verified: whoever answered could hand out its own.
    return MakeError(ErrorCode::kInvalidInput,
                     "the kubeconfig skips TLS verification (insecure-skip-tls-verify) and names "
                     "no certificate authority, so no CA read through it can be trusted; use a "
                     "kubeconfig with certificate-authority-data for " +
                         cluster->server);
  }
  return cluster;
}

RemoteAccess AccessFor(const RemoteSecretOptions& options, const kube::ClusterConfig& cluster,
                       TokenSecret token) {
  RemoteAccess access;
  access.cluster_name = options.name;
  access.server = options.server.value_or(cluster.server);
  // The kubeconfig's CA is what the caller already trusts for this server;
  // the token Secret's ca.crt (the cluster's root CA) when it names none.
  access.certificate_authority_pem =
      !cluster.certificate_authority_pem.empty() ? cluster.certificate_authority_pem : token.ca_pem;
  access.tls_server_name = cluster.tls_server_name;
  access.token = std::move(token.token);
  return access;
}

}  // namespace

int RunRemoteSecret(const std::vector<std::string>& args, CommandIo io) {
  FlagSpec spec{
      {"--name", "--context", "--kubeconfig", "--namespace", "--secret-namespace",
       "--reader-namespace", "--service-account", "--reader-role", "--server", "--timeout"},
      {"--create-service-account", "--help", "-h"}};
  auto flags = ParseFlags(args, spec);
  const auto usage = [&](const std::string& message) {
    io.err << "globalsvc remote-secret: " << message << "\n\n" << kRemoteSecretUsage;
    return kExitUsage;
  };
  if (!flags.ok()) return usage(flags.error().message);
  if (flags->Has("--help") || flags->Has("-h")) {
    io.out << kRemoteSecretUsage;
    return kExitOk;
  }
  RemoteSecretOptions options;
  if (auto problem = ReadOptions(*flags, options)) return usage(*problem);

  const auto fail = [&](const std::string& message) {
    io.err << "globalsvc remote-secret: " << message << "\n";
    return kExitFindings;
  };
  auto cluster = LoadVerifiedCluster(options);
  if (!cluster.ok()) return fail(cluster.error().message);
  auto client = kube::KubeClient::Create(*cluster);
  if (!client.ok()) return fail(client.error().message);
  auto token = ProvisionReaderAccount(**client, options.reader, options.create_service_account,
                                      std::chrono::seconds(options.timeout_seconds), io.err);
  if (!token.ok()) return fail(token.error().message);

  const RemoteAccess access = AccessFor(options, *cluster, std::move(*token));
  auto secret = BuildRemoteSecret(access, options.secret_namespace);
  if (!secret.ok()) return fail(secret.error().message);
  if (!options.server && IsLoopbackServer(access.server)) {
    io.err << "note: the server " << access.server
           << " is a loopback address: the other clusters' controllers must reach it there "
              "(else pass --server)\n";
  }
  io.out << EmitYaml(*secret);
  io.err << "printed Secret " << options.secret_namespace << "/"
         << controller::kRemoteSecretNamePrefix << options.name
         << ": apply it in every other cluster\n";
  return kExitOk;
}

}  // namespace globalsvc::cli
