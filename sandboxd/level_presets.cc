#include "sandboxd/level_presets.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/field_errors.h"

namespace secureos::sandboxd {
namespace {

constexpr uint32_t kNobody = 65534;

v1::MountEntry* AddEntry(v1::SandboxSpec* spec, v1::MountKind kind, const char* target) {
  v1::MountEntry* e = spec->mutable_filesystem()->add_entries();
  e->set_kind(kind);
  e->set_target(target);
  return e;
}

void HostViewWithPrivateTmp(v1::SandboxSpec* spec) {
  v1::Filesystem* fs = spec->mutable_filesystem();
  fs->set_root(v1::Filesystem::ROOT_HOST_READ_ONLY);
  fs->clear_entries();
  AddEntry(spec, v1::MOUNT_KIND_TMPFS, "/tmp")->set_mode("1777");
  AddEntry(spec, v1::MOUNT_KIND_PROC, "/proc");
  AddEntry(spec, v1::MOUNT_KIND_DEV, "/dev");
}

// Debian 12 merges /bin, /sbin and /lib* into /usr: those are symlinks there.
void SystemDirectory(v1::SandboxSpec* spec, const char* path) {
  char link[256];
  const ssize_t n = ::readlink(path, link, sizeof(link) - 1);
  if (n > 0) {
    link[n] = '\0';
    AddEntry(spec, v1::MOUNT_KIND_SYMLINK, path)->set_source(link);
    return;
  }
  v1::MountEntry* e = AddEntry(spec, v1::MOUNT_KIND_RO_BIND, path);
  e->set_source(path);
  e->set_optional(true);
}

void Namespaces(v1::SandboxSpec* spec, bool user_and_net) {
  v1::Namespaces* ns = spec->mutable_namespaces();
  ns->set_mount(true);
  ns->set_pid(true);
  ns->set_ipc(true);
  ns->set_uts(true);
  ns->set_user(user_and_net);
  ns->set_net(user_and_net);
  ns->set_cgroup(user_and_net);
}

}  // namespace

void ApplyDefaultPreset(v1::SandboxSpec* spec) {
  Namespaces(spec, true);
  spec->set_network(v1::NETWORK_MODE_NONE);
  spec->set_uid(kNobody);
  spec->set_gid(kNobody);
  HostViewWithPrivateTmp(spec);
  spec->mutable_seccomp()->set_base("default");
}

absl::Status ApplyLevelPreset(int level, v1::SandboxSpec* spec) {
  spec->set_level(level);
  switch (level) {
    case 3:
      Namespaces(spec, false);
      spec->set_network(v1::NETWORK_MODE_HOST);
      HostViewWithPrivateTmp(spec);
      spec->mutable_seccomp()->set_base("default");
      return absl::OkStatus();
    case 4:
      Namespaces(spec, true);
      spec->set_network(v1::NETWORK_MODE_LOOPBACK);
      spec->set_uid(kNobody);
      spec->set_gid(kNobody);
      HostViewWithPrivateTmp(spec);
      spec->mutable_seccomp()->set_base("strict");
      return absl::OkStatus();
    case 5:
      Namespaces(spec, true);
      spec->set_network(v1::NETWORK_MODE_LOOPBACK);
      spec->set_uid(kNobody);
      spec->set_gid(kNobody);
      spec->mutable_filesystem()->set_root(v1::Filesystem::ROOT_TMPFS);
      spec->mutable_filesystem()->clear_entries();
      for (const char* dir : {"/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc"}) {
        SystemDirectory(spec, dir);
      }
      AddEntry(spec, v1::MOUNT_KIND_PROC, "/proc");
      AddEntry(spec, v1::MOUNT_KIND_DEV, "/dev");
      spec->mutable_seccomp()->set_base("strict");
      spec->clear_capabilities();
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "level: sandboxd runs levels 3, 4 and 5 (1 and 2 are host services, spawned by "
          "capd), got ", level));
  }
}

namespace {

void RequireNamespace(bool set, const char* name, uint32_t level, FieldErrors* errors) {
  if (!set) errors->Add(absl::StrCat("namespaces.", name), absl::StrCat("level ", level, " needs it"));
}

bool Refuses(v1::SeccompAction a) {
  return a == v1::SECCOMP_ACTION_UNSPECIFIED || a == v1::SECCOMP_ACTION_ERRNO ||
         a == v1::SECCOMP_ACTION_KILL_PROCESS;
}

void VerifyThree(const v1::SandboxSpec& spec, FieldErrors* errors) {
  const v1::Namespaces& ns = spec.namespaces();
  RequireNamespace(ns.mount(), "mount", spec.level(), errors);
  RequireNamespace(ns.pid(), "pid", spec.level(), errors);
  RequireNamespace(ns.ipc(), "ipc", spec.level(), errors);
  RequireNamespace(ns.uts(), "uts", spec.level(), errors);
  if (spec.seccomp().base() == "unconfined") {
    errors->Add("seccomp.base", absl::StrCat("level ", spec.level(), " needs a seccomp filter"));
  }
}

void VerifyFour(const v1::SandboxSpec& spec, FieldErrors* errors) {
  RequireNamespace(spec.namespaces().user(), "user", spec.level(), errors);
  if (spec.network() == v1::NETWORK_MODE_HOST || spec.network() == v1::NETWORK_MODE_BRIDGE) {
    errors->Add("network", absl::StrCat("level ", spec.level(), " allows loopback at most"));
  }
  const v1::SeccompProfile& p = spec.seccomp();
  if (spec.learn()) return;  // Learning runs under its own recording filter.
  if (p.base() == "default" || !p.oci_json().empty() || !Refuses(p.default_action())) {
    errors->Add("seccomp", absl::StrCat("level ", spec.level(), " needs the strict profile or an "
                                        "allowlist whose default action refuses"));
  }
}

void VerifyFive(const v1::SandboxSpec& spec, FieldErrors* errors) {
  if (spec.filesystem().root() != v1::Filesystem::ROOT_TMPFS) {
    errors->Add("filesystem.root", "level 5 needs ROOT_TMPFS (only declared paths are visible)");
  }
  if (!spec.capabilities().empty()) errors->Add("capabilities", "level 5 keeps none");
}

}  // namespace

absl::Status VerifyLevel(const v1::SandboxSpec& spec) {
  if (spec.level() == 0) return absl::OkStatus();
  if (spec.level() < 3 || spec.level() > 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "level: sandboxd runs levels 3, 4 and 5 (1 and 2 are host services), got ", spec.level()));
  }
  FieldErrors errors;
  VerifyThree(spec, &errors);
  if (spec.level() >= 4) VerifyFour(spec, &errors);
  if (spec.level() >= 5) VerifyFive(spec, &errors);
  return errors.ToStatus();
}

}  // namespace secureos::sandboxd
