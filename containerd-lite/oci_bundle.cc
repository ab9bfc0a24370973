// LoadBundle and ToSandboxSpec: the composition of the pieces that read and translate a
// bundle, in the order whose errors and notes the caller sees.
#include "containerd-lite/oci_bundle.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/fd.h"
#include "common/status.h"
#include "containerd-lite/oci_identity.h"
#include "containerd-lite/oci_linux_paths.h"
#include "containerd-lite/oci_mounts.h"
#include "containerd-lite/oci_namespaces.h"
#include "containerd-lite/oci_paths.h"
#include "containerd-lite/oci_process.h"
#include "containerd-lite/oci_report.h"
#include "containerd-lite/oci_resources.h"
#include "containerd-lite/oci_seccomp.h"
#include "containerd-lite/rootfs_view.h"

namespace secureos::ctr {
namespace {

namespace sbx = sandboxd::v1;

// root.path (relative to the bundle directory `dir`, or absolute), canonical; empty after
// an error.
std::string ResolveRootfs(const std::string& dir, const std::string& path, OciReport* report) {
  if (path.empty()) {
    report->Error("root.path", "required");
    return "";
  }
  const std::string abs = path[0] == '/' ? path : absl::StrCat(dir, "/", path);
  absl::StatusOr<std::string> rootfs = RealPath(abs);
  struct stat st;
  if (!rootfs.ok()) {
    report->Error("root.path", absl::StrCat(Quote(path), ": ", rootfs.status().message()));
  } else if (::stat(rootfs->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    report->Error("root.path", absl::StrCat(Quote(path), " (", *rootfs, ") is not a directory"));
  } else {
    return *std::move(rootfs);
  }
  return "";
}

// The container's files: the rootfs under a tmpfs root, then the mounts, readonlyPaths
// and maskedPaths, in that order. Returns the view for what needs to look at it later.
RootfsView TranslateFilesystem(const Bundle& bundle, bool pid_namespace, sbx::Filesystem* fs,
                               OciReport* report) {
  const oci::v1::Spec& oci = bundle.spec;
  fs->set_root(sbx::Filesystem::ROOT_TMPFS);
  RootfsView view = BindRootfs(bundle.rootfs, oci.root().readonly(), fs, report);
  TranslateMounts(oci.mounts(), bundle.dir, pid_namespace, &view, fs, report);
  TranslateReadonlyPaths(oci.linux().readonly_paths(), view, fs, report);
  TranslateMaskedPaths(oci.linux().masked_paths(), view, fs, report);
  if (fs->entries_size() > kMaxViewEntries) {
    report->Error("mounts", absl::StrCat("the container's view needs ", fs->entries_size(),
                                         " sandboxd filesystem entries (top-level names of the "
                                         "rootfs, mounts, readonlyPaths, maskedPaths), more "
                                         "than sandboxd's ",
                                         kMaxViewEntries));
  }
  return view;
}

// The process: what it runs and where, its capabilities and limits.
void TranslateWorkload(const oci::v1::Spec& oci, const RootfsView& view, sbx::SandboxSpec* spec,
                       OciReport* report) {
  TranslateProcess(oci.process(), view, spec, report);
  spec->set_capabilities(TranslateCapabilities(oci.process().capabilities(), report));
  TranslateRlimits(oci.process().rlimits(), spec->mutable_limits(), report);
  TranslateResources(oci.linux().resources(), spec->mutable_limits(), report);
  const oci::v1::Seccomp* seccomp = oci.linux().has_seccomp() ? &oci.linux().seccomp() : nullptr;
  std::optional<sbx::SeccompProfile> profile = TranslateSeccomp(seccomp, report);
  if (profile) *spec->mutable_seccomp() = *std::move(profile);
}

}  // namespace

absl::StatusOr<Bundle> LoadBundle(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("bundle directory: required");
  Bundle bundle;
  SECUREOS_ASSIGN_OR_RETURN(bundle.dir, RealPath(dir));
  struct stat st;
  if (::stat(bundle.dir.c_str(), &st) != 0) return ErrnoToStatus(errno, bundle.dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(bundle.dir, ": not a directory"));
  }
  const std::string config_path = absl::StrCat(bundle.dir, "/", kConfigName);
  SECUREOS_ASSIGN_OR_RETURN(std::string text, ReadFile(config_path, kMaxConfigBytes));
  SECUREOS_ASSIGN_OR_RETURN(bundle.spec, ParseOciConfig(text));
  OciReport report;
  CheckOciConfig(bundle.spec, &report);
  bundle.rootfs = ResolveRootfs(bundle.dir, bundle.spec.root().path(), &report);
  SECUREOS_RETURN_IF_ERROR(report.ToStatus());
  return bundle;
}

bool DeclaresUserNamespace(const oci::v1::Spec& spec) {
  return std::any_of(spec.linux().namespaces().begin(), spec.linux().namespaces().end(),
                     [](const oci::v1::Namespace& n) { return n.type() == "user"; });
}

absl::StatusOr<sbx::SandboxSpec> ToSandboxSpec(const Bundle& bundle,
                                               const containerd_lite::v1::IdMapping& uid_map,
                                               const containerd_lite::v1::IdMapping& gid_map,
                                               std::vector<std::string>* notes) {
  SECUREOS_RETURN_IF_ERROR(CheckIdMapping(uid_map, "uid_map"));
  SECUREOS_RETURN_IF_ERROR(CheckIdMapping(gid_map, "gid_map"));
  if (bundle.rootfs.empty()) {
    return absl::InvalidArgumentError("bundle: not loaded (no rootfs): use LoadBundle");
  }
  const oci::v1::Spec& oci = bundle.spec;
  OciReport report;
  sbx::SandboxSpec spec;
  TranslateNamespaces(oci.linux().namespaces(), &spec, &report);
  TranslateIdentity(oci.process().user(), uid_map, gid_map, &spec, &report);
  TranslateHostname(oci.hostname(), &spec, &report);
  const RootfsView view =
      TranslateFilesystem(bundle, spec.namespaces().pid(), spec.mutable_filesystem(), &report);
  TranslateWorkload(oci, view, &spec, &report);
  if (notes != nullptr) *notes = report.TakeNotes();
  SECUREOS_RETURN_IF_ERROR(report.ToStatus());
  return spec;
}

absl::StatusOr<sbx::SandboxSpec> ExecProgram(const Bundle& bundle, const std::vector<std::string>& args,
                                             const std::vector<std::string>& env,
                                             const std::string& cwd) {
  if (args.empty()) return absl::InvalidArgumentError("args: required");
  oci::v1::Process process = bundle.spec.process();
  process.clear_args();
  for (const std::string& a : args) process.add_args(a);
  if (!env.empty()) {
    process.clear_env();
    for (const std::string& e : env) process.add_env(e);
  }
  if (!cwd.empty()) process.set_cwd(cwd);
  process.set_terminal(false);
  OciReport report;
  sbx::SandboxSpec view_spec;
  const RootfsView view = TranslateFilesystem(bundle, /*pid_namespace=*/true,
                                              view_spec.mutable_filesystem(), &report);
  sbx::SandboxSpec spec;
  TranslateProcess(process, view, &spec, &report);
  absl::Status s = report.ToStatus();
  if (!s.ok()) {
    // The report names config.json's fields; an exec's are the request's.
    std::string message(s.message());
    message = absl::StrReplaceAll(message, {{"config.json: process.args", "args"},
                                            {"config.json: process.cwd", "cwd"},
                                            {"config.json: process.env", "env"}});
    return absl::Status(s.code(), message);
  }
  return spec;
}

}  // namespace secureos::ctr
