#include "capd/spawn_plan.h"

#include <fcntl.h>
#include <linux/securebits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "capd/principal.h"
#include "common/field_errors.h"
#include "common/process_spec.h"
#include "common/status.h"

namespace secureos::capd {
namespace {

bool Absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

// Why `p` is not an absolute, normalized path; empty when it is one.
std::string NormalizedPathProblem(const std::string& p) {
  if (!Absolute(p)) return absl::StrCat("must be an absolute path, got \"", p, "\"");
  if (p.find('\0') != std::string::npos) return "contains a NUL byte";
  if (p.size() >= PATH_MAX) return absl::StrCat("longer than ", PATH_MAX - 1, " bytes");
  if (p == "/") return "";
  if (absl::StrContains(p, "//") || p.back() == '/') {
    return absl::StrCat("must be normalized (no \"//\", no trailing \"/\"), got \"", p, "\"");
  }
  for (absl::string_view c : absl::StrSplit(absl::string_view(p).substr(1), '/')) {
    if (c == "." || c == "..") {
      return absl::StrCat("must be normalized (no \".\" or \"..\" components), got \"", p, "\"");
    }
  }
  return "";
}

// True when `p` is `dir` or below it (both normalized).
bool AtOrUnder(const std::string& p, const std::string& dir) {
  if (dir == "/") return true;
  return p == dir || (absl::StartsWith(p, dir) && p[dir.size()] == '/');
}

void CheckCgroups(const v1::SpawnRequest& r, FieldErrors* errors) {
  if (r.cgroups_size() > kMaxCgroups) {
    errors->Add("cgroups", absl::StrCat("at most ", kMaxCgroups, " (one per hierarchy), got ",
                                        r.cgroups_size()));
  }
  for (int i = 0; i < r.cgroups_size(); ++i) {
    const std::string field = absl::StrCat("cgroups[", i, "]");
    if (std::string problem = NormalizedPathProblem(r.cgroups(i)); !problem.empty()) {
      errors->Add(field, problem);
    }
    for (int j = 0; j < i; ++j) {
      if (r.cgroups(j) == r.cgroups(i)) {
        errors->Add(field, absl::StrCat("repeats cgroups[", j, "]"));
        break;
      }
    }
  }
}

// Opens <cgroup>/cgroup.procs of each cgroup, and refuses two in one hierarchy (a process is
// in exactly one cgroup per hierarchy: the second write would silently undo the first).
absl::Status OpenCgroups(const v1::SpawnRequest& r, SpawnPlan* plan) {
  FieldErrors errors;
  std::vector<std::pair<dev_t, int>> hierarchies;  // Of the cgroups opened so far.
  for (int i = 0; i < r.cgroups_size(); ++i) {
    const std::string field = absl::StrCat("cgroups[", i, "]");
    absl::StatusOr<UniqueFd> procs = OpenFile(r.cgroups(i) + "/cgroup.procs", O_WRONLY);
    if (!procs.ok()) {
      errors.Add(field, procs.status().message());
      continue;
    }
    struct stat st;
    if (::fstat(procs->get(), &st) != 0) {
      const int err = errno;
      errors.Add(field,
                 ErrnoToStatus(err, absl::StrCat("fstat ", r.cgroups(i), "/cgroup.procs")).message());
      continue;
    }
    for (const auto& [dev, j] : hierarchies) {
      if (dev == st.st_dev) {
        errors.Add(field, absl::StrCat("in the same hierarchy as cgroups[", j,
                                       "]: list one cgroup per hierarchy"));
      }
    }
    hierarchies.emplace_back(st.st_dev, i);
    plan->cgroup_procs.push_back(std::move(*procs));
    plan->cgroup_paths.push_back(r.cgroups(i));
  }
  return errors.ToStatus();
}

// Checks one path list of the mount view: normalized, distinct, existing directories (a
// missing one is skipped when `optional`). Appends the paths to apply to `*out`.
void CheckMountPaths(const google::protobuf::RepeatedPtrField<std::string>& paths,
                     const std::string& name, bool optional, FieldErrors* errors,
                     std::vector<std::string>* out) {
  if (paths.size() > kMaxMountPaths) {
    errors->Add(name, absl::StrCat("at most ", kMaxMountPaths, " paths, got ", paths.size()));
  }
  for (int i = 0; i < paths.size(); ++i) {
    const std::string& p = paths[i];
    const std::string field = absl::StrCat(name, "[", i, "]");
    if (std::string problem = NormalizedPathProblem(p); !problem.empty()) {
      errors->Add(field, problem);
      continue;
    }
    bool repeated = false;
    for (int j = 0; j < i && !repeated; ++j) {
      if (paths[j] == p) {
        errors->Add(field, absl::StrCat("repeats ", name, "[", j, "]"));
        repeated = true;
      }
    }
    if (repeated) continue;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) {
      const int err = errno;
      if (err == ENOENT && optional) continue;
      if (err == ENOENT) {
        errors->Add(field, absl::StrCat(p, " does not exist (a directory that may be absent "
                                           "belongs in mounts.optional_read_only_paths)"));
      } else {
        errors->Add(field, ErrnoToStatus(err, absl::StrCat("lstat ", p)).message());
      }
    } else if (S_ISLNK(st.st_mode)) {
      errors->Add(field, absl::StrCat(p, " is a symbolic link: list the directory it points to"));
    } else if (!S_ISDIR(st.st_mode)) {
      errors->Add(field, absl::StrCat(p, " is not a directory"));
    } else {
      out->push_back(p);
    }
  }
}

// Validates the mount view and fills the plan's copy of it.
void CheckMounts(const v1::MountView& m, SpawnPlan* plan, FieldErrors* errors) {
  const size_t errors_before = errors->errors().size();
  CheckMountPaths(m.read_only_paths(), "mounts.read_only_paths", false, errors,
                  &plan->read_only_paths);
  CheckMountPaths(m.optional_read_only_paths(), "mounts.optional_read_only_paths", true, errors,
                  &plan->read_only_paths);
  CheckMountPaths(m.read_write_paths(), "mounts.read_write_paths", false, errors,
                  &plan->read_write_paths);
  for (int i = 0; i < m.read_write_paths_size(); ++i) {
    if (m.read_write_paths(i) == "/") {
      errors->Add(absl::StrCat("mounts.read_write_paths[", i, "]"),
                  "\"/\" is refused: it would undo every read-only path");
    }
  }
  if (errors->errors().size() != errors_before) return;  // The checks below need valid paths.
  // Read-only paths that a later step would hide or make writable again.
  auto check_against_later_steps = [&](const google::protobuf::RepeatedPtrField<std::string>& paths,
                                       const std::string& name) {
    for (int i = 0; i < paths.size(); ++i) {
      const std::string field = absl::StrCat(name, "[", i, "]");
      for (int j = 0; j < m.read_write_paths_size(); ++j) {
        if (AtOrUnder(paths[i], m.read_write_paths(j))) {
          errors->Add(field, absl::StrCat("is at or under mounts.read_write_paths[", j, "] ",
                                          m.read_write_paths(j), ", which would make it writable"));
        }
      }
      if (m.private_tmp() && AtOrUnder(paths[i], "/tmp")) {
        errors->Add(field, "is at or under /tmp, which private_tmp replaces by an empty tmpfs");
      }
    }
  };
  check_against_later_steps(m.read_only_paths(), "mounts.read_only_paths");
  check_against_later_steps(m.optional_read_only_paths(), "mounts.optional_read_only_paths");
  if (m.private_tmp()) {
    for (int i = 0; i < m.read_write_paths_size(); ++i) {
      if (AtOrUnder(m.read_write_paths(i), "/tmp")) {
        errors->Add(absl::StrCat("mounts.read_write_paths[", i, "]"),
                    "is at or under /tmp, which private_tmp replaces by an empty tmpfs");
      }
    }
  }
  plan->private_tmp = m.private_tmp();
}

void CheckOutput(const v1::SpawnRequest& r, FieldErrors* errors) {
  if (r.output() == v1::OUTPUT_MODE_FILES) {
    if (!Absolute(r.stdout_path())) errors->Add("stdout_path", "required, absolute, with OUTPUT_MODE_FILES");
    if (!Absolute(r.stderr_path())) errors->Add("stderr_path", "required, absolute, with OUTPUT_MODE_FILES");
  } else if (!r.stdout_path().empty() || !r.stderr_path().empty()) {
    errors->Add("stdout_path", "only with OUTPUT_MODE_FILES");
  }
}

// Opens an output file for appending. The path may be a FIFO: O_NONBLOCK makes an open
// without a reader fail at once (ENXIO) instead of holding this gRPC thread until a reader
// comes; it is cleared once open, so that the process's writes block as usual.
absl::StatusOr<UniqueFd> OpenOutput(const std::string& field, const std::string& path) {
  const int flags = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  UniqueFd fd(RetryOnEintr([&] { return ::open(path.c_str(), flags, 0640); }));
  if (!fd.valid()) {
    const int err = errno;
    if (err == ENXIO) {
      return absl::FailedPreconditionError(absl::StrCat(
          field, ": ", path,
          ": no reader (ENXIO): a FIFO must be open for reading before the spawn"));
    }
    return Annotate(ErrnoToStatus(err, absl::StrCat("open ", path)), field);
  }
  const int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) != 0) {
    const int err = errno;
    return Annotate(ErrnoToStatus(err, absl::StrCat("clear O_NONBLOCK on ", path)), field);
  }
  return fd;
}

absl::Status OpenOutputs(const v1::SpawnRequest& r, SpawnPlan* plan) {
  Stdio stdio;
  switch (r.output()) {
    case v1::OUTPUT_MODE_FILES: {
      SECUREOS_ASSIGN_OR_RETURN(stdio.in, OpenFile("/dev/null", O_RDONLY));
      SECUREOS_ASSIGN_OR_RETURN(stdio.out, OpenOutput("stdout_path", r.stdout_path()));
      SECUREOS_ASSIGN_OR_RETURN(stdio.err, OpenOutput("stderr_path", r.stderr_path()));
      break;
    }
    case v1::OUTPUT_MODE_STREAM:
      SECUREOS_RETURN_IF_ERROR(OpenStreamedStdio(&stdio));
      break;
    default:
      SECUREOS_RETURN_IF_ERROR(OpenNullStdio(&stdio));
  }
  plan->stdin_fd = std::move(stdio.in);
  plan->stdout_fd = std::move(stdio.out);
  plan->stderr_fd = std::move(stdio.err);
  plan->stdout_read = std::move(stdio.out_read);
  plan->stderr_read = std::move(stdio.err_read);
  return absl::OkStatus();
}

}  // namespace

uint32_t SpawnSecurebits() {
  return SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
         SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
}

absl::StatusOr<SpawnPlan> BuildSpawnPlan(const v1::SpawnRequest& r) {
  SpawnPlan plan;
  FieldErrors errors;
  absl::StatusOr<std::string> principal = ParsePrincipal(r.principal());
  if (principal.ok()) {
    plan.principal = *principal;
  } else {
    errors.Add("principal", r.principal().empty() ? "required" : principal.status().message());
  }
  CheckArgvEnv(r.argv(), r.env(), &errors);
  if (!r.cwd().empty() && !Absolute(r.cwd())) errors.Add("cwd", "must be an absolute path");
  RequireFields(r, {"uid", "gid"}, "", &errors);
  if (r.has_uid() && r.uid() == 0xffffffffu) errors.Add("uid", "4294967295 is not a uid");
  if (r.has_gid() && r.gid() == 0xffffffffu) errors.Add("gid", "4294967295 is not a gid");
  absl::StatusOr<CapSet> caps = CapSet::Parse(r.capabilities());
  if (caps.ok()) {
    plan.caps = *caps;
  } else {
    errors.Add("capabilities", caps.status().message());
  }
  CheckCgroups(r, &errors);
  CheckMounts(r.mounts(), &plan, &errors);
  for (int i = 0; i < r.rlimits_size(); ++i) {
    if (auto lim = CheckRlimit(r.rlimits(i), absl::StrCat("rlimits[", i, "]"), &errors)) {
      plan.rlimits.push_back(*lim);
    }
  }
  CheckOutput(r, &errors);
  SECUREOS_RETURN_IF_ERROR(errors.ToStatus());

  plan.argv.assign(r.argv().begin(), r.argv().end());
  plan.env.assign(r.env().begin(), r.env().end());
  if (!r.cwd().empty()) plan.cwd = r.cwd();
  plan.uid = r.uid();
  plan.gid = r.gid();
  plan.groups.assign(r.groups().begin(), r.groups().end());
  plan.securebits = SpawnSecurebits();
  plan.trace_id = r.trace_id();
  SECUREOS_RETURN_IF_ERROR(OpenCgroups(r, &plan));
  SECUREOS_RETURN_IF_ERROR(OpenOutputs(r, &plan));
  plan.argv_ptrs = CStringArray(plan.argv);
  plan.env_ptrs = CStringArray(plan.env);
  return plan;
}

}  // namespace secureos::capd
