#include "sandboxd/cgroup/cgroup.h"

#include <dirent.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/field_errors.h"
#include "common/log.h"
#include "common/status.h"

namespace secureos::sandboxd {
namespace {

constexpr uint32_t kCpuPeriodUsec = 100000;
constexpr uint32_t kMinCpuMillis = 10;  // The kernel's minimum quota is 1 ms per period.
constexpr absl::Duration kRmdirPatience = absl::Seconds(1);

std::string Join(absl::string_view dir, absl::string_view rel) {
  return dir == "/" ? absl::StrCat("/", rel) : absl::StrCat(dir, "/", rel);
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

void ValidatePath(absl::string_view field, absl::string_view value, bool single,
                  FieldErrors* errors) {
  std::string problem = CgroupPathProblem(value, single);
  if (!problem.empty()) errors->Add(field, problem);
}

void ValidateLimits(const CgroupLayout& layout, const CgroupLimits& limits,
                    FieldErrors* errors) {
  auto check = [&](absl::string_view field, bool set, uint64_t value, uint64_t min,
                   CgroupController controller) {
    if (!set) return;
    if (layout.Find(controller) == nullptr) {
      errors->Add(field, absl::StrCat("no ", CgroupControllerName(controller),
                                      " controller on this host"));
    } else if (value < min) {
      errors->Add(field, absl::StrCat("must be at least ", min, ", got ", value));
    }
  };
  check("limits.memory_bytes", limits.memory_bytes.has_value(),
        limits.memory_bytes.value_or(0), 1, CgroupController::kMemory);
  check("limits.cpu_millis", limits.cpu_millis.has_value(), limits.cpu_millis.value_or(0),
        kMinCpuMillis, CgroupController::kCpu);
  check("limits.pids", limits.pids.has_value(), limits.pids.value_or(0), 1,
        CgroupController::kPids);
}

absl::Status WriteControl(const std::string& dir, absl::string_view file,
                          absl::string_view value) {
  std::string path = Join(dir, file);
  SECUREOS_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_WRONLY));
  absl::Status status = WriteAll(fd.get(), value);
  if (!status.ok()) return Annotate(status, absl::StrCat("writing \"", value, "\" to ", path));
  return absl::OkStatus();
}

// mkdir 0755 that accepts an existing directory.
absl::Status MakeParentDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0) return absl::OkStatus();
  int err = errno;
  struct stat st;
  if (err == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::OkStatus();
  }
  return ErrnoToStatus(err, absl::StrCat("mkdir ", path));
}

// Makes the controllers of a v2 hierarchy available to the children of `dir`.
absl::Status EnableControllers(const std::string& dir, const CgroupHierarchy& h) {
  if (h.version != 2 || h.controllers.empty()) return absl::OkStatus();
  SECUREOS_ASSIGN_OR_RETURN(std::string enabled,
                            ReadFile(Join(dir, "cgroup.subtree_control")));
  std::vector<absl::string_view> names =
      absl::StrSplit(enabled, absl::ByAnyChar(" \n"), absl::SkipEmpty());
  for (CgroupController c : h.controllers) {
    absl::string_view name = CgroupControllerName(c);
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    SECUREOS_RETURN_IF_ERROR(
        WriteControl(dir, "cgroup.subtree_control", absl::StrCat("+", name)));
  }
  return absl::OkStatus();
}

// A number file ("123\n" or "max\n"); nullopt when the file does not exist or says "max".
absl::StatusOr<std::optional<uint64_t>> ReadNumber(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (absl::IsNotFound(text.status())) return std::optional<uint64_t>();
  if (!text.ok()) return text.status();
  absl::string_view value = absl::StripAsciiWhitespace(*text);
  uint64_t n = 0;
  if (value == "max") return std::optional<uint64_t>();
  if (!absl::SimpleAtoi(value, &n)) {
    return absl::InternalError(absl::StrCat(path, ": not a number: \"", value, "\""));
  }
  return std::optional<uint64_t>(n);
}

// The value of `key` in a "key value" per line file; nullopt when the file or key is absent.
absl::StatusOr<std::optional<uint64_t>> ReadKeyed(const std::string& path,
                                                  absl::string_view key) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (absl::IsNotFound(text.status())) return std::optional<uint64_t>();
  if (!text.ok()) return text.status();
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, ' ');
    if (kv.first != key) continue;
    uint64_t n = 0;
    if (!absl::SimpleAtoi(kv.second, &n)) {
      return absl::InternalError(absl::StrCat(path, ": bad value of ", key));
    }
    return std::optional<uint64_t>(n);
  }
  return std::optional<uint64_t>();
}

absl::StatusOr<std::vector<pid_t>> ReadPids(const std::string& dir) {
  std::string path = Join(dir, "cgroup.procs");
  SECUREOS_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<pid_t> pids;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(line, &pid) || pid <= 0) {
      return absl::InternalError(absl::StrCat(path, ": bad pid \"", line, "\""));
    }
    pids.push_back(pid);
  }
  return pids;
}

// Raw syscalls: Debian 12's <sys/pidfd.h> (glibc 2.36) lacks extern "C", so its wrappers
// do not link from C++.
int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int PidfdKill(int pidfd) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0));
}

// One round of killing what `dir` lists. A pid is pinned with a pidfd first and signalled
// only if it is still listed afterwards: then the pidfd's process is the member (had it
// died, the signal fails with ESRCH rather than reaching a recycled pid). Returns how many
// processes were listed.
absl::StatusOr<size_t> KillListed(const std::string& dir) {
  SECUREOS_ASSIGN_OR_RETURN(std::vector<pid_t> listed, ReadPids(dir));
  if (listed.empty()) return size_t{0};
  std::vector<std::pair<pid_t, UniqueFd>> pinned;
  for (pid_t pid : listed) {
    int fd = PidfdOpen(pid);
    if (fd < 0 && errno == ESRCH) continue;  // Already gone.
    if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("pidfd_open ", pid));
    pinned.emplace_back(pid, UniqueFd(fd));
  }
  SECUREOS_ASSIGN_OR_RETURN(std::vector<pid_t> again, ReadPids(dir));
  absl::flat_hash_set<pid_t> still(again.begin(), again.end());
  for (const auto& [pid, fd] : pinned) {
    if (!still.contains(pid)) continue;
    if (PidfdKill(fd.get()) != 0 && errno != ESRCH) {
      return ErrnoToStatus(errno, absl::StrCat("pidfd_send_signal SIGKILL ", pid));
    }
  }
  return listed.size();
}

void LogFailure(absl::string_view what, const std::vector<std::string>& paths,
                const absl::Status& status) {
  Log(LogLevel::kWarning, what,
      {{"cgroup", absl::StrJoin(paths, ",")}, {"error", std::string(status.message())}});
}

}  // namespace

std::string CgroupPathProblem(absl::string_view value, bool single) {
  std::string quoted = absl::StrCat("\"", absl::CHexEscape(value), "\"");
  if (value.empty()) return "required";
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-' && c != '/') {
      return absl::StrCat(quoted, " may contain only A-Z a-z 0-9 . _ - and /");
    }
  }
  if (value[0] == '/') return absl::StrCat(quoted, " must be a relative path");
  std::vector<absl::string_view> parts = absl::StrSplit(value, '/');
  if (single && parts.size() > 1) return absl::StrCat(quoted, " must be a single path component");
  for (absl::string_view part : parts) {
    if (part.empty() || part == "." || part == "..") {
      return absl::StrCat(quoted, " has an empty, \".\" or \"..\" component");
    }
  }
  return "";
}

absl::StatusOr<std::unique_ptr<Cgroup>> Cgroup::Create(const CgroupLayout& layout,
                                                       const std::string& parent,
                                                       const std::string& name,
                                                       const CgroupLimits& limits) {
  FieldErrors errors;
  ValidatePath("cgroup_parent", parent, /*single=*/false, &errors);
  ValidatePath("name", name, /*single=*/true, &errors);
  ValidateLimits(layout, limits, &errors);
  SECUREOS_RETURN_IF_ERROR(errors.ToStatus());
  if (layout.hierarchies().empty()) {
    return absl::FailedPreconditionError("no cgroup hierarchy is mounted on this host");
  }
  std::unique_ptr<Cgroup> cgroup(new Cgroup());
  cgroup->unified_ = layout.unified();
  for (const CgroupHierarchy& h : layout.hierarchies()) {
    cgroup->members_.push_back(Member{h, Join(h.BaseDir(), Join(parent, name)), {}, false});
  }
  absl::Status status = cgroup->Make(parent, name);
  if (status.ok()) status = cgroup->ApplyLimits(limits);
  if (status.ok()) status = cgroup->OpenFds();
  if (!status.ok()) {
    absl::Status cleanup = cgroup->Destroy();
    if (!cleanup.ok()) LogFailure("cgroup rollback failed", cgroup->paths(), cleanup);
    return status;
  }
  return cgroup;
}

absl::StatusOr<std::unique_ptr<Cgroup>> Cgroup::Adopt(const CgroupLayout& layout,
                                                      const std::string& parent,
                                                      const std::string& name) {
  FieldErrors errors;
  ValidatePath("cgroup_parent", parent, /*single=*/false, &errors);
  ValidatePath("name", name, /*single=*/true, &errors);
  SECUREOS_RETURN_IF_ERROR(errors.ToStatus());
  std::unique_ptr<Cgroup> cgroup(new Cgroup());
  cgroup->unified_ = layout.unified();
  for (const CgroupHierarchy& h : layout.hierarchies()) {
    Member m{h, Join(h.BaseDir(), Join(parent, name)), {}, true};
    if (!Exists(m.path)) {
      cgroup->Release();  // Nothing of it is ours to remove.
      return absl::NotFoundError(absl::StrCat("cgroup ", m.path, " does not exist"));
    }
    cgroup->members_.push_back(std::move(m));
  }
  SECUREOS_RETURN_IF_ERROR(cgroup->OpenFds());
  return cgroup;
}

void Cgroup::Release() {
  for (Member& m : members_) m.exists = false;
}

absl::Status Cgroup::Make(const std::string& parent, const std::string& name) {
  for (Member& m : members_) {
    std::string dir = m.hierarchy.BaseDir();
    SECUREOS_RETURN_IF_ERROR(EnableControllers(dir, m.hierarchy));
    for (absl::string_view part : absl::StrSplit(parent, '/')) {
      dir = Join(dir, part);
      SECUREOS_RETURN_IF_ERROR(MakeParentDir(dir));
      SECUREOS_RETURN_IF_ERROR(EnableControllers(dir, m.hierarchy));
    }
    if (::mkdir(m.path.c_str(), 0755) != 0) {
      if (errno == EEXIST) {
        return absl::AlreadyExistsError(absl::StrCat(
            "cgroup ", m.path, " already exists (left by an earlier workload named \"", name,
            "\"?); it is not adopted"));
      }
      return ErrnoToStatus(errno, absl::StrCat("mkdir ", m.path));
    }
    m.exists = true;
  }
  return absl::OkStatus();
}

absl::Status Cgroup::ApplyLimits(const CgroupLimits& limits) {
  if (limits.memory_bytes) {
    const Member* m = MemberFor(CgroupController::kMemory);
    std::string bytes = absl::StrCat(*limits.memory_bytes);
    bool v1 = m->hierarchy.version == 1;
    SECUREOS_RETURN_IF_ERROR(
        WriteControl(m->path, v1 ? "memory.limit_in_bytes" : "memory.max", bytes));
    // Without these, a workload could push its pages to swap and exceed the limit. v1:
    // memsw limits memory+swap, and must be written after (never below) limit_in_bytes.
    const char* swap_file = v1 ? "memory.memsw.limit_in_bytes" : "memory.swap.max";
    if (Exists(Join(m->path, swap_file))) {
      SECUREOS_RETURN_IF_ERROR(WriteControl(m->path, swap_file, v1 ? bytes : "0"));
    }
  }
  if (limits.cpu_millis) {
    const Member* m = MemberFor(CgroupController::kCpu);
    uint64_t quota = uint64_t{*limits.cpu_millis} * kCpuPeriodUsec / 1000;
    if (m->hierarchy.version == 1) {
      SECUREOS_RETURN_IF_ERROR(
          WriteControl(m->path, "cpu.cfs_period_us", absl::StrCat(kCpuPeriodUsec)));
      SECUREOS_RETURN_IF_ERROR(WriteControl(m->path, "cpu.cfs_quota_us", absl::StrCat(quota)));
    } else {
      SECUREOS_RETURN_IF_ERROR(
          WriteControl(m->path, "cpu.max", absl::StrCat(quota, " ", kCpuPeriodUsec)));
    }
  }
  if (limits.pids) {
    const Member* m = MemberFor(CgroupController::kPids);
    SECUREOS_RETURN_IF_ERROR(WriteControl(m->path, "pids.max", absl::StrCat(*limits.pids)));
  }
  return absl::OkStatus();
}

absl::Status Cgroup::OpenFds() {
  procs_count_ = 0;
  for (Member& m : members_) {
    SECUREOS_ASSIGN_OR_RETURN(m.procs, OpenFile(Join(m.path, "cgroup.procs"), O_WRONLY));
    procs_fds_[procs_count_++] = m.procs.get();
  }
  if (unified_) {
    SECUREOS_ASSIGN_OR_RETURN(clone_into_,
                              OpenFile(members_[0].path, O_RDONLY | O_DIRECTORY));
  }
  return absl::OkStatus();
}

const Cgroup::Member* Cgroup::MemberFor(CgroupController controller) const {
  for (const Member& m : members_) {
    if (m.hierarchy.Holds(controller)) return &m;
  }
  return nullptr;
}

Cgroup::~Cgroup() {
  bool any = std::any_of(members_.begin(), members_.end(),
                         [](const Member& m) { return m.exists; });
  if (!any) return;
  absl::Status status = KillAll();
  if (!status.ok()) LogFailure("cgroup kill failed", paths(), status);
  status = Destroy();
  if (!status.ok()) LogFailure("cgroup removal failed", paths(), status);
}

int Cgroup::EnterFromChild() const noexcept {
  for (size_t i = 0; i < procs_count_; ++i) {
    ssize_t n;
    do {
      n = ::write(procs_fds_[i], "0", 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) return n < 0 ? errno : EIO;
  }
  return 0;
}

absl::Status Cgroup::KillAll(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (const Member& m : members_) {
    if (!m.exists || m.hierarchy.version != 2 || !Exists(Join(m.path, "cgroup.kill"))) {
      continue;
    }
    SECUREOS_RETURN_IF_ERROR(WriteControl(m.path, "cgroup.kill", "1"));
  }
  for (;;) {
    size_t listed = 0;
    for (const Member& m : members_) {
      if (!m.exists) continue;
      SECUREOS_ASSIGN_OR_RETURN(size_t n, KillListed(m.path));
      listed += n;
    }
    if (listed == 0) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(listed, " process(es) still listed in ", absl::StrJoin(paths(), ","),
                       " after SIGKILL for ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

namespace {

// One leaf per hierarchy: what Stats() and StatsOf() read.
struct Leaf {
  const CgroupHierarchy* hierarchy;
  std::string path;
};

const Leaf* LeafFor(const std::vector<Leaf>& leaves, CgroupController controller) {
  for (const Leaf& l : leaves) {
    if (l.hierarchy->Holds(controller)) return &l;
  }
  return nullptr;
}

absl::StatusOr<CgroupStats> ReadStats(const std::vector<Leaf>& leaves) {
  CgroupStats stats;
  if (const Leaf* m = LeafFor(leaves, CgroupController::kMemory)) {
    bool v1 = m->hierarchy->version == 1;
    SECUREOS_ASSIGN_OR_RETURN(
        stats.memory_peak_bytes,
        ReadNumber(Join(m->path, v1 ? "memory.max_usage_in_bytes" : "memory.peak")));
    SECUREOS_ASSIGN_OR_RETURN(
        std::optional<uint64_t> usage,
        ReadNumber(Join(m->path, v1 ? "memory.usage_in_bytes" : "memory.current")));
    SECUREOS_ASSIGN_OR_RETURN(
        std::optional<uint64_t> inactive,
        ReadKeyed(Join(m->path, "memory.stat"), v1 ? "total_inactive_file" : "inactive_file"));
    if (usage && inactive) {
      stats.memory_working_set_bytes = *usage - std::min(*usage, *inactive);
    }
    SECUREOS_ASSIGN_OR_RETURN(
        stats.oom_kills,
        ReadKeyed(Join(m->path, v1 ? "memory.oom_control" : "memory.events"), "oom_kill"));
  }
  const Leaf* v2 = nullptr;
  for (const Leaf& l : leaves) {
    if (l.hierarchy->version == 2) v2 = &l;
  }
  if (const Leaf* m = LeafFor(leaves, CgroupController::kCpuacct)) {
    SECUREOS_ASSIGN_OR_RETURN(stats.cpu_usage_ns, ReadNumber(Join(m->path, "cpuacct.usage")));
  } else if (v2 != nullptr) {
    // Every v2 cgroup has cpu.stat usage_usec, with or without the cpu controller.
    SECUREOS_ASSIGN_OR_RETURN(std::optional<uint64_t> usec,
                              ReadKeyed(Join(v2->path, "cpu.stat"), "usage_usec"));
    if (usec) stats.cpu_usage_ns = *usec * 1000;
  }
  if (const Leaf* m = LeafFor(leaves, CgroupController::kPids)) {
    SECUREOS_ASSIGN_OR_RETURN(stats.pids_current, ReadNumber(Join(m->path, "pids.current")));
  }
  return stats;
}

}  // namespace

absl::StatusOr<CgroupStats> Cgroup::Stats() const {
  if (std::none_of(members_.begin(), members_.end(),
                   [](const Member& m) { return m.exists; })) {
    return absl::FailedPreconditionError("cgroup was destroyed");
  }
  std::vector<Leaf> leaves;
  for (const Member& m : members_) leaves.push_back({&m.hierarchy, m.path});
  return ReadStats(leaves);
}

absl::StatusOr<CgroupStats> Cgroup::StatsOf(const CgroupLayout& layout,
                                            const std::vector<std::string>& leaf_dirs) {
  if (leaf_dirs.size() != layout.hierarchies().size()) {
    return absl::InvalidArgumentError(absl::StrCat("cgroup_paths: ", leaf_dirs.size(), " given for ",
                                                   layout.hierarchies().size(), " hierarchies"));
  }
  std::vector<Leaf> leaves;
  for (size_t i = 0; i < leaf_dirs.size(); ++i) leaves.push_back({&layout.hierarchies()[i], leaf_dirs[i]});
  return ReadStats(leaves);
}

absl::Status Cgroup::Destroy() {
  absl::Time deadline = absl::Now() + kRmdirPatience;
  for (;;) {
    std::vector<std::string> busy;
    for (Member& m : members_) {
      if (!m.exists) continue;
      if (::rmdir(m.path.c_str()) == 0 || errno == ENOENT) {
        m.exists = false;
      } else if (errno == EBUSY) {
        busy.push_back(m.path);  // Populated, or the kernel is still tearing it down.
      } else {
        return ErrnoToStatus(errno, absl::StrCat("rmdir ", m.path));
      }
    }
    if (busy.empty()) break;
    if (absl::Now() >= deadline) {
      return absl::FailedPreconditionError(
          absl::StrCat("rmdir ", absl::StrJoin(busy, ","), ": still busy after ",
                       absl::FormatDuration(kRmdirPatience), " (processes left? KillAll first)"));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  procs_count_ = 0;
  for (Member& m : members_) m.procs.Reset();
  clone_into_.Reset();
  return absl::OkStatus();
}

std::vector<std::string> Cgroup::paths() const {
  std::vector<std::string> out;
  for (const Member& m : members_) out.push_back(m.path);
  return out;
}

std::vector<std::string> Cgroup::SweepStale(const CgroupLayout& layout, const std::string& parent) {
  std::vector<std::string> busy;
  for (const CgroupHierarchy& h : layout.hierarchies()) {
    const std::string dir = Join(h.BaseDir(), parent);
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (d == nullptr) continue;
    while (dirent* e = ::readdir(d.get())) {
      if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
      const std::string leaf = dir + "/" + e->d_name;
      // rmdir refuses a cgroup with processes (EBUSY) or children: exactly the ones to keep.
      if (::rmdir(leaf.c_str()) != 0) busy.push_back(leaf);
    }
  }
  return busy;
}

}  // namespace secureos::sandboxd
