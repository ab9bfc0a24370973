#include "containerd-lite/oci_namespaces.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "containerd-lite/oci_paths.h"

namespace secureos::ctr {
namespace {

namespace sbx = sandboxd::v1;

// Sets the namespace of OCI type `type` in `ns`; false for an unknown type.
bool SetNamespace(const std::string& type, sbx::Namespaces* ns) {
  using Setter = void (sbx::Namespaces::*)(bool);
  static const auto* kSetters = new std::map<std::string, Setter>{
      {"pid", &sbx::Namespaces::set_pid},       {"network", &sbx::Namespaces::set_net},
      {"mount", &sbx::Namespaces::set_mount},   {"ipc", &sbx::Namespaces::set_ipc},
      {"uts", &sbx::Namespaces::set_uts},       {"user", &sbx::Namespaces::set_user},
      {"cgroup", &sbx::Namespaces::set_cgroup}, {"time", &sbx::Namespaces::set_time},
  };
  auto it = kSetters->find(type);
  if (it == kSetters->end()) return false;
  (ns->*(it->second))(true);
  return true;
}

// linux.namespaces[i] (`field`), unless its type was `seen` before.
void AddNamespace(const oci::v1::Namespace& n, const std::string& field,
                  std::set<std::string>* seen, sbx::Namespaces* ns, OciReport* report) {
  if (!n.path().empty()) {
    report->Error(field + ".path",
                  absl::StrCat("joining an existing namespace (", Quote(n.path()),
                               ") is not supported by containerd-lite: every container gets "
                               "new namespaces"));
  }
  const std::string& t = n.type();
  if (!seen->insert(t).second) {
    report->Error(field + ".type", absl::StrCat(Quote(t), " is listed twice"));
    return;
  }
  if (SetNamespace(t, ns)) return;
  report->Error(field + ".type",
                t.empty() ? std::string("required")
                          : absl::StrCat("unknown namespace type ", Quote(t),
                                         " (pid, network, mount, ipc, uts, user, cgroup, time)"));
}

}  // namespace

void TranslateNamespaces(const google::protobuf::RepeatedPtrField<oci::v1::Namespace>& namespaces,
                         sbx::SandboxSpec* spec, OciReport* report) {
  std::set<std::string> seen;
  sbx::Namespaces* ns = spec->mutable_namespaces();
  for (int i = 0; i < namespaces.size(); ++i) {
    AddNamespace(namespaces[i], Field("linux.namespaces", i), &seen, ns, report);
  }
  if (!ns->mount()) {
    report->Error("linux.namespaces",
                  "a mount namespace is required: containerd-lite always gives the container a "
                  "view of its own root (add {\"type\": \"mount\"})");
  }
  if (!ns->user()) {
    report->Note("linux.namespaces",
                 "no user namespace in the bundle: containerd-lite adds one (container ids map "
                 "to its id range)");
    ns->set_user(true);
  }
  spec->set_network(ns->net() ? sbx::NETWORK_MODE_LOOPBACK : sbx::NETWORK_MODE_HOST);
}

void TranslateHostname(const std::string& hostname, sbx::SandboxSpec* spec, OciReport* report) {
  if (hostname.empty()) return;
  if (!spec->namespaces().uts()) {
    report->Error("hostname",
                  absl::StrCat(Quote(hostname), " needs a uts namespace in linux.namespaces"));
    return;
  }
  spec->set_hostname(hostname);
}

}  // namespace secureos::ctr
