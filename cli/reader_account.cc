#include "cli/reader_account.h"

#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "lib/kube/pem.h"
#include "lib/kube/resource_type.h"

namespace globalsvc::cli {
namespace {

using nlohmann::json;

constexpr const char* kFieldManager = "globalsvc-remote-secret";

// RBAC resources are only used here, so they are not in lib/kube's list.
const kube::ResourceType kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles", false};
const kube::ResourceType kClusterRoleBindings{"rbac.authorization.k8s.io", "v1",
                                              "clusterrolebindings", false};
const kube::ResourceType kRoles{"rbac.authorization.k8s.io", "v1", "roles", true};
const kube::ResourceType kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings", true};

std::string DataField(const json& secret, const char* key) {
  const auto data = secret.find("data");
  if (data == secret.end() || !data->is_object()) return {};
  const auto value = data->find(key);
  if (value == data->end() || !value->is_string()) return {};
  return kube::DecodeBase64(value->get<std::string>()).value_or("");
}

std::string AnnotationOf(const json& object, const char* key) {
  const json* annotations = nullptr;
  if (auto metadata = object.find("metadata"); metadata != object.end()) {
    if (auto it = metadata->find("annotations"); it != metadata->end() && it->is_object())
      annotations = &*it;
  }
  if (annotations == nullptr) return {};
  const auto value = annotations->find(key);
  return value != annotations->end() && value->is_string() ? value->get<std::string>() : "";
}

// Runs against the remote cluster; progress goes to `err`, never a credential.
class ReaderAccountSetup {
 public:
  ReaderAccountSetup(kube::KubeClient& client, const ReaderIdentity& reader, std::ostream& err)
      : client_(client), reader_(reader), err_(err) {}

  Status EnsureReaderRolesExist() {
    if (auto role = client_.Get(kClusterRoles, "", reader_.reader_role); !role.ok()) {
      return Explain(role.error(), "ClusterRole " + reader_.reader_role,
                     "install the globalsvc chart in this cluster (its reader roles come with "
                     "every install), or name another ClusterRole and Role with --reader-role");
    }
    if (auto role = client_.Get(kRoles, reader_.control_plane_namespace, reader_.reader_role);
        !role.ok()) {
      return Explain(role.error(),
                     "Role " + reader_.control_plane_namespace + "/" + reader_.reader_role,
                     "install the globalsvc chart in this cluster, or pass --namespace / "
                     "--reader-role");
    }
    return Ok{};
  }

  Status EnsureServiceAccount(bool create) {
    const std::string what =
        "ServiceAccount " + reader_.service_account_namespace + "/" + reader_.service_account;
    auto existing = client_.Get(kube::resources::ServiceAccounts(),
                                reader_.service_account_namespace, reader_.service_account);
    if (existing.ok()) return Ok{};
    if (existing.error().code != ErrorCode::kNotFound || !create) {
      return Explain(existing.error(), what,
                     "install the globalsvc chart here with remoteReader.enabled=true, or pass "
                     "--create-service-account");
    }
    auto created =
        client_.Create(kube::resources::ServiceAccounts(), reader_.service_account_namespace,
                       ReaderObjects(reader_).service_account);
    if (!created.ok() && created.error().code != ErrorCode::kConflict) {
      return Explain(created.error(), "creating " + what, "");
    }
    err_ << "created " << what << "\n";
    return Ok{};
  }

  Status BindReaderRoles() {
    const ReaderObjectSet objects = ReaderObjects(reader_);
    const kube::ApplyOptions options{kFieldManager, false, ""};
    if (auto applied =
            client_.Apply(kClusterRoleBindings, "", objects.cluster_role_binding, options);
        !applied.ok()) {
      return Explain(applied.error(), "applying ClusterRoleBinding " + objects.binding_name, "");
    }
    if (auto applied = client_.Apply(kRoleBindings, reader_.control_plane_namespace,
                                     objects.role_binding, options);
        !applied.ok()) {
      return Explain(
          applied.error(),
          "applying RoleBinding " + reader_.control_plane_namespace + "/" + objects.binding_name,
          "");
    }
    err_ << "bound " << reader_.service_account_namespace << "/" << reader_.service_account
         << " to ClusterRole and Role " << reader_.reader_role << "\n";
    return Ok{};
  }

  // The long-lived token of the ServiceAccount: its <sa>-token Secret, created
  // when missing, polled until the token controller has filled it in.
  Result<TokenSecret> WaitForToken(std::chrono::seconds timeout) {
    const std::string name = ReaderObjects(reader_).token_secret_name;
    const std::string what = "Secret " + reader_.service_account_namespace + "/" + name;
    if (auto status = EnsureTokenSecret(name, what); !status.ok()) return status.error();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto secret =
          client_.Get(kube::resources::Secrets(), reader_.service_account_namespace, name);
      if (!secret.ok() && !secret.error().retryable())
        return Explain(secret.error(), what, "").error();
      if (secret.ok()) {
        if (!IsReaderTokenSecret(*secret)) {
          return MakeError(ErrorCode::kInvalidInput,
                           what + " exists but is not the token Secret of ServiceAccount " +
                               reader_.service_account + "; delete it or pick another name");
        }
        TokenSecret token{DataField(*secret, "token"), DataField(*secret, "ca.crt")};
        if (!token.token.empty()) return token;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return MakeError(ErrorCode::kUnavailable,
                         "the token controller did not fill in " + what + " within " +
                             std::to_string(timeout.count()) +
                             "s (is kube-controller-manager running with its "
                             "serviceaccount-token controller?)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

 private:
  // Creates the token Secret `name` when it is missing; `what` names it in messages.
  Status EnsureTokenSecret(const std::string& name, const std::string& what) {
    auto secret = client_.Get(kube::resources::Secrets(), reader_.service_account_namespace, name);
    if (!secret.ok() && secret.error().code == ErrorCode::kNotFound) {
      auto created = client_.Create(kube::resources::Secrets(), reader_.service_account_namespace,
                                    ReaderObjects(reader_).token_secret);
      if (!created.ok() && created.error().code != ErrorCode::kConflict) {
        return Explain(created.error(), "creating " + what, "");
      }
      err_ << "created " << what << "\n";
    } else if (!secret.ok()) {
      return Explain(secret.error(), what, "");
    }
    return Ok{};
  }

  // A Secret of that name that is someone else's must not hand out its token.
  bool IsReaderTokenSecret(const json& secret) const {
    return secret.value("type", "") == "kubernetes.io/service-account-token" &&
           AnnotationOf(secret, "kubernetes.io/service-account.name") == reader_.service_account;
  }

  Status Explain(const Error& error, const std::string& what, const std::string& hint) {
    std::string message = what + ": " + error.message;
    if (error.code == ErrorCode::kNotFound && !hint.empty()) message += "\n  hint: " + hint;
    if (error.code == ErrorCode::kForbidden) {
      message +=
          "\n  hint: the identity of --context needs to read (and with "
          "--create-service-account create) ServiceAccounts, Secrets and RBAC bindings";
    }
    return Error{error.code, message};
  }

  kube::KubeClient& client_;
  const ReaderIdentity& reader_;
  std::ostream& err_;
};

}  // namespace

Result<TokenSecret> ProvisionReaderAccount(kube::KubeClient& client, const ReaderIdentity& reader,
                                           bool create, std::chrono::seconds timeout,
                                           std::ostream& progress) {
  ReaderAccountSetup setup(client, reader, progress);
  if (create) {
    if (auto status = setup.EnsureReaderRolesExist(); !status.ok()) return status.error();
  }
  if (auto status = setup.EnsureServiceAccount(create); !status.ok()) return status.error();
  if (create) {
    if (auto status = setup.BindReaderRoles(); !status.ok()) return status.error();
  }
  return setup.WaitForToken(timeout);
}

}  // namespace globalsvc::cli
