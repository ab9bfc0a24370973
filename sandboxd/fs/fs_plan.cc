// BuildFsPlan: validation and preparation, in the parent. ApplyFsPlan is in fs_apply.cc.
#include "sandboxd/fs/fs_plan.h"

#include <climits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/absolute_path.h"
#include "common/field_errors.h"
#include "sandboxd/fs/mount_options.h"

namespace secureos::sandboxd {
namespace {

using v1::MountEntry;
using v1::MountKind;

constexpr mode_t kDefaultDirMode = 0755;
constexpr mode_t kDefaultFileMode = 0444;
constexpr uint64_t kRootTmpfsSize = 1u << 20;
constexpr uint64_t kDevTmpfsSize = 64u << 10;
constexpr uint64_t kShmSize = 64u << 20;
constexpr uint64_t kStagingBaseSize = 1u << 20;

bool IsBind(MountKind kind) {
  return kind == v1::MOUNT_KIND_RO_BIND || kind == v1::MOUNT_KIND_RW_BIND;
}

// Refuses fields that mean nothing for the entry's kind, so that a typo does not pass
// silently (a size on a bind, content on a tmpfs).
void RefuseUnusedFields(const MountEntry& entry, const std::string& prefix, FieldErrors* errors) {
  const MountKind kind = entry.kind();
  const std::string kind_name = v1::MountKind_Name(kind);
  auto refuse = [&](bool set, bool used, const char* field) {
    if (set && !used) errors->Add(prefix + field, "not used by " + kind_name);
  };
  refuse(!entry.source().empty(), IsBind(kind) || kind == v1::MOUNT_KIND_SYMLINK, ".source");
  refuse(!entry.size().empty(), kind == v1::MOUNT_KIND_TMPFS, ".size");
  refuse(!entry.mode().empty(),
         kind == v1::MOUNT_KIND_TMPFS || kind == v1::MOUNT_KIND_DIR || kind == v1::MOUNT_KIND_FILE,
         ".mode");
  refuse(!entry.content().empty(), kind == v1::MOUNT_KIND_FILE, ".content");
  refuse(entry.optional(), IsBind(kind), ".optional");
}

std::optional<mode_t> ModeOrDefault(const MountEntry& entry, mode_t fallback,
                                    const std::string& field, FieldErrors* errors) {
  if (entry.mode().empty()) return fallback;
  absl::StatusOr<mode_t> mode = ParseMode(entry.mode());
  if (!mode.ok()) {
    errors->Add(field, mode.status().message());
    return std::nullopt;
  }
  return *mode;
}

bool PrepareBind(const MountEntry& entry, const std::string& prefix, FsStep* step,
                 FieldErrors* errors) {
  const bool ro = entry.kind() == v1::MOUNT_KIND_RO_BIND;
  if (entry.source().empty()) {
    errors->Add(prefix + ".source", "required for a bind");
    return false;
  }
  std::optional<std::string> source = NormalizeAbsolutePath(entry.source(), prefix + ".source", errors);
  if (!source) return false;
  step->kind = ro ? FsStep::Kind::kRoBind : FsStep::Kind::kRwBind;
  step->source_rel = *source == "/" ? "." : source->substr(1);
  step->optional = entry.optional();
  step->description =
      absl::StrCat("bind ", *source, " -> ", step->target, ro ? "" : " (read-write)");
  return true;
}

bool PrepareTmpfs(const MountEntry& entry, const std::string& prefix, FsStep* step,
                  FieldErrors* errors) {
  uint64_t size = kDefaultTmpfsSize;
  if (!entry.size().empty()) {
    absl::StatusOr<uint64_t> parsed = ParseSize(entry.size());
    if (!parsed.ok()) {
      errors->Add(prefix + ".size", parsed.status().message());
      return false;
    }
    size = *parsed;
  }
  std::optional<mode_t> mode = ModeOrDefault(entry, kDefaultDirMode, prefix + ".mode", errors);
  if (!mode) return false;
  step->kind = FsStep::Kind::kTmpfs;
  step->mount_data = TmpfsMountData(size, *mode);
  step->mode = *mode;
  step->description = absl::StrCat("mount tmpfs on ", step->target);
  return true;
}

bool PrepareSymlink(const MountEntry& entry, const std::string& prefix, FsStep* step,
                    FieldErrors* errors) {
  const std::string field = prefix + ".source";
  if (entry.source().empty()) {
    errors->Add(field, "required for a symlink (the link text)");
    return false;
  }
  if (entry.source().find('\0') != std::string::npos) {
    errors->Add(field, "must not contain a NUL byte");
    return false;
  }
  if (entry.source().size() >= PATH_MAX) {
    errors->Add(field, absl::StrCat("longer than ", PATH_MAX - 1, " bytes"));
    return false;
  }
  step->kind = FsStep::Kind::kSymlink;
  step->link_text = entry.source();
  step->description = absl::StrCat("symlink ", step->target, " -> ", entry.source());
  return true;
}

bool PrepareFile(const MountEntry& entry, size_t index, const std::string& prefix, FsStep* step,
                 FieldErrors* errors) {
  if (entry.content().size() > kMaxFileContent) {
    errors->Add(
        prefix + ".content",
        absl::StrCat(entry.content().size(), " bytes is more than the limit of ", kMaxFileContent));
    return false;
  }
  std::optional<mode_t> mode = ModeOrDefault(entry, kDefaultFileMode, prefix + ".mode", errors);
  if (!mode) return false;
  step->kind = FsStep::Kind::kFile;
  step->content = entry.content();
  step->mode = *mode;
  step->staging_path = absl::StrCat("/file-", index);
  step->description = absl::StrCat("file ", step->target);
  return true;
}

bool PrepareDir(const MountEntry& entry, const std::string& prefix, FsStep* step,
                FieldErrors* errors) {
  std::optional<mode_t> mode = ModeOrDefault(entry, kDefaultDirMode, prefix + ".mode", errors);
  if (!mode) return false;
  step->kind = FsStep::Kind::kDir;
  step->mode = *mode;
  step->description = absl::StrCat("dir ", step->target);
  return true;
}

// Fills the kind-specific parts of `step`; false when something was wrong (already added).
bool PrepareKind(const MountEntry& entry, size_t index, const std::string& prefix,
                 bool pid_namespace, FsStep* step, FieldErrors* errors) {
  switch (entry.kind()) {
    case v1::MOUNT_KIND_RO_BIND:
    case v1::MOUNT_KIND_RW_BIND:
      return PrepareBind(entry, prefix, step, errors);
    case v1::MOUNT_KIND_TMPFS:
      return PrepareTmpfs(entry, prefix, step, errors);
    case v1::MOUNT_KIND_PROC:
      if (!pid_namespace) {
        errors->Add(prefix, "a private /proc needs a pid namespace");
        return false;
      }
      step->kind = FsStep::Kind::kProc;
      step->description = absl::StrCat("mount proc on ", step->target);
      return true;
    case v1::MOUNT_KIND_DEV:
      step->kind = FsStep::Kind::kDev;
      step->description = absl::StrCat("mount dev on ", step->target);
      return true;
    case v1::MOUNT_KIND_SYMLINK:
      return PrepareSymlink(entry, prefix, step, errors);
    case v1::MOUNT_KIND_FILE:
      return PrepareFile(entry, index, prefix, step, errors);
    case v1::MOUNT_KIND_DIR:
      return PrepareDir(entry, prefix, step, errors);
    case v1::MOUNT_KIND_UNSPECIFIED:
      errors->Add(prefix + ".kind", "required");
      return false;
    default:
      errors->Add(prefix + ".kind", absl::StrCat("unknown value ", entry.kind()));
      return false;
  }
}

std::optional<FsStep> PrepareEntry(const MountEntry& entry, size_t index, bool pid_namespace,
                                   FieldErrors* errors) {
  const std::string prefix = absl::StrCat("filesystem.entries[", index, "]");
  const size_t errors_before = errors->errors().size();
  RefuseUnusedFields(entry, prefix, errors);
  FsStep step;
  std::optional<std::string> target = NormalizeAbsolutePath(entry.target(), prefix + ".target", errors);
  if (target && *target == "/") {
    errors->Add(prefix + ".target", "\"/\" cannot be replaced (choose filesystem.root)");
    target.reset();
  }
  if (target) {
    step.target = *target;
    step.target_rel = target->substr(1);
    const size_t slash = target->rfind('/');
    step.parent_rel = slash == 0 ? "." : target->substr(1, slash - 1);
    step.leaf = target->substr(slash + 1);
  }
  const bool kind_ok = PrepareKind(entry, index, prefix, pid_namespace, &step, errors);
  if (!target || !kind_ok || errors->errors().size() != errors_before) return std::nullopt;
  return step;
}

uint64_t RoundUpToPage(uint64_t n) { return (n + 4095) & ~uint64_t{4095}; }

}  // namespace

absl::StatusOr<FsPlan> BuildFsPlan(const v1::Filesystem& fs, bool pid_namespace,
                                   bool user_namespace) {
  FieldErrors errors;
  FsPlan plan;
  switch (fs.root()) {
    case v1::Filesystem::ROOT_UNSPECIFIED:
    case v1::Filesystem::ROOT_HOST_READ_ONLY:
      plan.tmpfs_root = false;
      break;
    case v1::Filesystem::ROOT_TMPFS:
      plan.tmpfs_root = true;
      break;
    default:
      errors.Add("filesystem.root", absl::StrCat("unknown value ", fs.root()));
  }
  if (fs.entries_size() > kMaxFsEntries) {
    errors.Add(
        "filesystem.entries",
        absl::StrCat(fs.entries_size(), " entries is more than the limit of ", kMaxFsEntries));
  }
  uint64_t staging_size = kStagingBaseSize;
  for (int i = 0; i < fs.entries_size() && i < kMaxFsEntries; ++i) {
    std::optional<FsStep> step = PrepareEntry(fs.entries(i), i, pid_namespace, &errors);
    if (!step) continue;
    staging_size += RoundUpToPage(step->content.size());
    plan.steps.push_back(std::move(*step));
  }
  if (!fs.cwd().empty()) {
    std::optional<std::string> cwd = NormalizeAbsolutePath(fs.cwd(), "filesystem.cwd", &errors);
    if (cwd) plan.cwd = *cwd;
  }
  if (!errors.empty()) return errors.ToStatus();
  plan.cwd_step = absl::StrCat("chdir ", plan.cwd);
  plan.staging_data = TmpfsMountData(staging_size, 0700);
  plan.root_data = TmpfsMountData(kRootTmpfsSize, 0755);
  plan.dev_data = TmpfsMountData(kDevTmpfsSize, 0755);
  plan.shm_data = TmpfsMountData(kShmSize, 01777);
  plan.devpts_data = "newinstance,ptmxmode=0666,mode=0620";
  // gid 5 (tty) is only meaningful, and only accepted, where the host's gids are.
  if (!user_namespace) plan.devpts_data += ",gid=5";
  return plan;
}

}  // namespace secureos::sandboxd
