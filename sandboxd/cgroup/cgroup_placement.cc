#include "sandboxd/cgroup/cgroup_placement.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/atomic_file.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/status.h"
#include "sandboxd/cgroup/cgroup.h"

namespace secureos::sandboxd {
namespace {

using Record = absl::flat_hash_map<std::string, std::string>;  // mount point -> base

bool ControllerListed(const CgroupHierarchy& h, absl::string_view listed) {
  for (absl::string_view name : absl::StrSplit(listed, ',')) {
    for (CgroupController c : h.controllers) {
      if (CgroupControllerName(c) == name) return true;
    }
  }
  return false;
}

std::string Parent(absl::string_view path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == absl::string_view::npos ? "/" : std::string(path.substr(0, slash));
}

bool IsBelow(absl::string_view path, absl::string_view ancestor) {
  if (path == ancestor) return false;
  return ancestor == "/" ? absl::StartsWith(path, "/")
                         : absl::StartsWith(path, absl::StrCat(ancestor, "/"));
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string DirOf(const CgroupHierarchy& h, absl::string_view cgroup) {
  return cgroup == "/" ? h.mount_point : absl::StrCat(h.mount_point, cgroup);
}

// A missing or unreadable record is no record: it only ever helps a restart find its way back.
Record ReadRecord(const std::string& path) {
  Record record;
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return record;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() == 2 && absl::StartsWith(f[1], "/")) record[f[0]] = f[1];
  }
  return record;
}

// The base of hierarchy `h` for a process in `own`.
absl::StatusOr<std::string> BaseFor(const CgroupHierarchy& h, const std::string& own,
                                    const Record& record) {
  std::string base = own;
  size_t slash = own.rfind('/');
  if (own != "/" && absl::string_view(own).substr(slash + 1) == kSupervisorLeaf) base = Parent(own);
  auto recorded = record.find(h.mount_point);
  if (recorded != record.end() && IsBelow(recorded->second, base) &&
      IsDirectory(DirOf(h, recorded->second))) {
    Log(LogLevel::kWarning, "started outside its delegated cgroup: returning to it",
        {{"hierarchy", h.mount_point}, {"started_in", own}, {"base", recorded->second}});
    base = recorded->second;
  }
  if (base == "/") {
    return absl::FailedPreconditionError(absl::StrCat(
        "cgroup_parent: \"@self/...\" needs the daemon started in a cgroup of its own (a "
        "systemd unit with Delegate=yes), but it runs in the root cgroup of ", h.mount_point,
        "; use a path relative to the hierarchies' roots instead"));
  }
  return base;
}

absl::Status MoveSelfInto(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, absl::StrCat("mkdir ", dir));
  }
  const std::string procs = absl::StrCat(dir, "/cgroup.procs");
  SECUREOS_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(procs, O_WRONLY));
  absl::Status written = WriteAll(fd.get(), "0");
  if (!written.ok()) return Annotate(written, absl::StrCat("moving the daemon into ", dir));
  return absl::OkStatus();
}

}  // namespace

std::string CgroupParentProblem(absl::string_view value) {
  absl::string_view rest = value;
  absl::ConsumePrefix(&rest, kSelfCgroupPrefix);
  std::string problem = CgroupPathProblem(rest, /*single=*/false);
  if (problem.empty() || rest.size() == value.size()) return problem;
  return absl::StrCat("after \"", kSelfCgroupPrefix, "\": ", problem);
}

absl::StatusOr<std::vector<std::string>> CgroupsOf(const CgroupLayout& layout,
                                                   absl::string_view proc_cgroup) {
  std::vector<std::string> out(layout.hierarchies().size());
  std::vector<bool> found(out.size(), false);
  int number = 0;
  for (absl::string_view line : absl::StrSplit(proc_cgroup, '\n', absl::SkipEmpty())) {
    ++number;
    // "id:controllers:path"; the path itself may contain ':'.
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(':', 2));
    int id = 0;
    if (f.size() != 3 || !absl::SimpleAtoi(f[0], &id) || !absl::StartsWith(f[2], "/")) {
      return absl::InvalidArgumentError(absl::StrCat("cgroup line ", number, ": malformed"));
    }
    for (size_t i = 0; i < out.size(); ++i) {
      const CgroupHierarchy& h = layout.hierarchies()[i];
      bool match = h.version == 2 ? id == 0 && f[1].empty() : ControllerListed(h, f[1]);
      if (match && !found[i]) {
        out[i] = std::string(f[2]);
        found[i] = true;
      }
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (!found[i]) {
      return absl::NotFoundError(absl::StrCat("no cgroup line for the hierarchy at ",
                                              layout.hierarchies()[i].mount_point));
    }
  }
  return out;
}

absl::StatusOr<CgroupPlacement> PlaceCgroups(const CgroupLayout& layout,
                                             const std::string& cgroup_parent,
                                             const std::string& record_path) {
  std::string problem = CgroupParentProblem(cgroup_parent);
  if (!problem.empty()) return absl::InvalidArgumentError(absl::StrCat("cgroup_parent: ", problem));
  absl::string_view rest = cgroup_parent;
  if (!absl::ConsumePrefix(&rest, kSelfCgroupPrefix)) return CgroupPlacement{layout, cgroup_parent};

  SECUREOS_ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/self/cgroup"));
  SECUREOS_ASSIGN_OR_RETURN(std::vector<std::string> own, CgroupsOf(layout, text));
  const Record record = ReadRecord(record_path);
  std::vector<std::string> bases;
  for (size_t i = 0; i < own.size(); ++i) {
    SECUREOS_ASSIGN_OR_RETURN(std::string base, BaseFor(layout.hierarchies()[i], own[i], record));
    bases.push_back(std::move(base));
  }
  std::string lines;
  for (size_t i = 0; i < bases.size(); ++i) {
    const CgroupHierarchy& h = layout.hierarchies()[i];
    SECUREOS_RETURN_IF_ERROR(
        MoveSelfInto(absl::StrCat(DirOf(h, bases[i]), "/", kSupervisorLeaf)));
    absl::StrAppend(&lines, h.mount_point, "\t", bases[i], "\n");
  }
  SECUREOS_RETURN_IF_ERROR(
      WriteFileAtomically(record_path, lines, 0600, Durability::kProcessCrash));
  return CgroupPlacement{layout.WithBases(bases), std::string(rest)};
}

}  // namespace secureos::sandboxd
