// Verification rules (each check is reported, passing or not):
//   capabilities.*  capd's view of the process; effective and permitted equal the expected
//                   set exactly, and at levels 1-2 inheritable, bounding and ambient too
//                   (capd's spawner raises every granted capability into the ambient set
//                   whatever the uid, and its drift check compares ambient to the grant).
//   no_new_privs    capd's view; "1" when the level promises it.
//   seccomp         /proc/<pid>/status Seccomp; must be 2 (filter) when a filter is expected,
//                   otherwise reported for information only.
//   uid             /proc/<pid>/status Uid (real uid) when the process runs on the host's uids.
//   namespace.<ns>  the inode of /proc/<pid>/ns/<ns> differs from svcd's own (the host's).
//   mount./tmp      the process sees a tmpfs mounted at /tmp whose device (mountinfo
//                   major:minor) is not that of svcd's own /tmp mount: a fresh tmpfs always gets
//                   a new anonymous device, while the host's /tmp copied into a new mount
//                   namespace keeps its device, so a tmpfs /tmp on the host is not mistaken
//                   for a private one.
//   mount.<path>    the mount covering <path> in the process's view (longest mount point
//                   matching whole components, topmost when mounts are stacked) has "ro" in
//                   its per-mount options. A path the host lacks is never bound, so it passes
//                   as "absent".
//   cgroup.*        the process's cgroup (from /proc/<pid>/cgroup) in the hierarchy that holds
//                   the controller, and the limit file sandboxd's Cgroup writes there.
#include "svcd/verifier.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/cap_set.h"
#include "common/fd.h"
#include "common/grpc_status.h"
#include "common/status.h"
#include "common/unix_channel.h"
#include "google/protobuf/util/time_util.h"
#include "proto/capd.grpc.pb.h"

namespace secureos::svcd {
namespace {

using sandboxd::CgroupController;
using sandboxd::CgroupHierarchy;
using sandboxd::CgroupLayout;

// "The host" is svcd itself (ProcessInspector's pid 0): it runs in the host's namespaces and
// mounts, while pid 1's may be unreadable (under a container runtime its ns links are).
constexpr pid_t kHostPid = 0;
constexpr absl::Duration kCapdDeadline = absl::Seconds(5);

// What one check found: the process's value as shown to the operator, and the verdict.
struct Finding {
  std::string actual;
  bool ok = false;
};

void AddCheck(v1::Verification* v, const std::string& name, const std::string& expected,
              const absl::StatusOr<Finding>& found) {
  v1::Check* c = v->add_checks();
  c->set_name(name);
  c->set_expected(expected);
  if (found.ok()) {
    c->set_actual(found->actual);
    c->set_ok(found->ok);
  } else {
    const absl::Status& s = found.status();
    c->set_actual(absl::StrCat("unreadable: ", s.message().empty() ? s.ToString() : s.message()));
    c->set_ok(false);
  }
}

// ---- Capabilities ----

// One readable form for every set, expected or actual.
std::string CapText(const CapSet& caps) { return caps.empty() ? "none" : caps.ToString(); }

// capd sends both the names and the kernel's hex mask; the mask is exact even for
// capabilities newer than capd's libcap.
absl::StatusOr<CapSet> FromProto(const capd::v1::CapabilitySet& set) {
  if (set.hex().empty()) return CapSet::Parse(absl::StrJoin(set.names(), ","));
  uint64_t mask = 0;
  if (!absl::SimpleHexAtoi(set.hex(), &mask)) {
    return absl::InvalidArgumentError(absl::StrCat("capd sent a bad capability mask \"", set.hex(), "\""));
  }
  return CapSet::FromMask(mask);
}

absl::StatusOr<Finding> CompareCaps(const absl::StatusOr<capd::v1::ProcessCapabilities>& caps,
                                    const capd::v1::CapabilitySet& (capd::v1::ProcessCapabilities::*set)() const,
                                    const CapSet& expected) {
  if (!caps.ok()) return caps.status();
  SECUREOS_ASSIGN_OR_RETURN(CapSet held, FromProto(((*caps).*set)()));
  return Finding{CapText(held), held == expected};
}

void CheckCapabilities(const absl::StatusOr<capd::v1::ProcessCapabilities>& caps,
                       const LevelExpectations& expect, v1::Verification* v) {
  using P = capd::v1::ProcessCapabilities;
  const std::string want = CapText(expect.caps);
  AddCheck(v, "capabilities.effective", want, CompareCaps(caps, &P::effective, expect.caps));
  AddCheck(v, "capabilities.permitted", want, CompareCaps(caps, &P::permitted, expect.caps));
  if (!expect.all_five_sets) return;
  AddCheck(v, "capabilities.inheritable", want, CompareCaps(caps, &P::inheritable, expect.caps));
  AddCheck(v, "capabilities.bounding", want, CompareCaps(caps, &P::bounding, expect.caps));
  AddCheck(v, "capabilities.ambient", want, CompareCaps(caps, &P::ambient, expect.caps));
}

absl::StatusOr<Finding> NoNewPrivs(const absl::StatusOr<capd::v1::ProcessCapabilities>& caps, bool want) {
  if (!caps.ok()) return caps.status();
  return Finding{caps->no_new_privs() ? "1" : "0", !want || caps->no_new_privs()};
}

// "self" for pid 0 (svcd itself), the number otherwise.
std::string ProcDir(pid_t pid) { return pid == 0 ? "self" : absl::StrCat(pid); }

// ---- /proc/<pid>/status ----

// The value of "<key>:" in /proc/<pid>/status, trimmed.
absl::StatusOr<std::string> StatusField(const absl::StatusOr<std::string>& status, absl::string_view key) {
  if (!status.ok()) return status.status();
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    if (absl::ConsumePrefix(&line, key) && absl::ConsumePrefix(&line, ":")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return absl::NotFoundError(absl::StrCat("no \"", key, "\" line in /proc/<pid>/status"));
}

std::string SeccompText(absl::string_view mode) {
  if (mode == "0") return "0 (disabled)";
  if (mode == "1") return "1 (strict)";
  if (mode == "2") return "2 (filter)";
  return std::string(mode);
}

// Without a filter expected, the mode is evidence only: any mode passes.
absl::StatusOr<Finding> Seccomp(const absl::StatusOr<std::string>& status, bool want_filter) {
  SECUREOS_ASSIGN_OR_RETURN(std::string mode, StatusField(status, "Seccomp"));
  return Finding{SeccompText(mode), !want_filter || mode == "2"};
}

absl::StatusOr<Finding> RealUid(const absl::StatusOr<std::string>& status, uid_t want) {
  SECUREOS_ASSIGN_OR_RETURN(std::string uids, StatusField(status, "Uid"));
  // "Uid:" lists real, effective, saved and filesystem uid; the real one comes first.
  std::vector<absl::string_view> ids = absl::StrSplit(uids, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  uint32_t real = 0;
  if (ids.empty() || !absl::SimpleAtoi(ids[0], &real)) {
    return absl::InvalidArgumentError(absl::StrCat("bad Uid line \"", uids, "\""));
  }
  return Finding{std::string(ids[0]), real == want};
}

// ---- Namespaces ----

absl::StatusOr<Finding> CompareNamespace(pid_t pid, const std::string& ns, ProcessInspector& inspector) {
  SECUREOS_ASSIGN_OR_RETURN(uint64_t own, inspector.NamespaceInode(pid, ns));
  SECUREOS_ASSIGN_OR_RETURN(uint64_t host, inspector.NamespaceInode(kHostPid, ns));
  if (own == host) return Finding{absl::StrCat("host (inode ", own, ")"), false};
  return Finding{absl::StrCat("own (inode ", own, ")"), true};
}

// ---- Mounts ----

struct Mount {
  std::string id;
  std::string parent;
  std::string device;       // major:minor
  std::string point;        // Decoded, relative to the process's root.
  std::vector<std::string> options;  // Per-mount options ("ro", "nosuid", ...).
  std::string fs_type;
};

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(absl::string_view s) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// proc(5): "id parent major:minor root point options [optional...] - type source super".
absl::StatusOr<std::vector<Mount>> ParseMountinfo(absl::string_view text) {
  std::vector<Mount> mounts;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    ++number;
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    size_t sep = 6;
    while (sep < f.size() && f[sep] != "-") ++sep;
    if (f.size() < 7 || sep + 1 >= f.size()) {
      return absl::InvalidArgumentError(absl::StrCat("malformed mountinfo line ", number));
    }
    mounts.push_back(Mount{std::string(f[0]), std::string(f[1]), std::string(f[2]), Unescape(f[4]),
                           absl::StrSplit(f[5], ','), std::string(f[sep + 1])});
  }
  return mounts;
}

// Whether the mount point `point` holds `path` (whole components: /us does not cover /usr).
bool Covers(absl::string_view point, absl::string_view path) {
  if (point == "/") return true;
  return absl::ConsumePrefix(&path, point) && (path.empty() || path[0] == '/');
}

// The mount a lookup of `path` lands on: the longest covering mount point, and of several
// mounts stacked there the top one (whose id is no other's parent). Null when none covers it.
const Mount* CoveringMount(const std::vector<Mount>& mounts, absl::string_view path) {
  const Mount* best = nullptr;
  for (const Mount& m : mounts) {
    if (!Covers(m.point, path)) continue;
    if (best == nullptr || m.point.size() > best->point.size()) best = &m;
  }
  // Mountinfo order is not mount order: climb the stack until nothing sits on top. At most
  // one step per mount, so a corrupt text with a parent cycle cannot loop forever.
  bool climbed = best != nullptr;
  for (size_t steps = 0; climbed && steps < mounts.size(); ++steps) {
    climbed = false;
    for (const Mount& m : mounts) {
      if (&m != best && m.point == best->point && m.parent == best->id) {
        best = &m;
        climbed = true;
        break;
      }
    }
  }
  return best;
}

// "/usr/" -> "/usr"; "/" stays.
std::string CleanPath(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

bool HasOption(const Mount& m, absl::string_view option) {
  for (const std::string& o : m.options) {
    if (o == option) return true;
  }
  return false;
}

absl::StatusOr<Finding> PrivateTmp(const absl::StatusOr<std::vector<Mount>>& own,
                                   const absl::StatusOr<std::vector<Mount>>& host) {
  if (!own.ok()) return own.status();
  if (!host.ok()) return host.status();
  const Mount* tmp = CoveringMount(*own, "/tmp");
  if (tmp == nullptr || tmp->point != "/tmp") return Finding{"no mount of its own", false};
  const Mount* host_tmp = CoveringMount(*host, "/tmp");
  if (host_tmp != nullptr && host_tmp->point == "/tmp" && host_tmp->device == tmp->device) {
    return Finding{absl::StrCat("the host's ", tmp->fs_type, " (device ", tmp->device, ")"), false};
  }
  return Finding{absl::StrCat(tmp->fs_type, " (device ", tmp->device, ")"), tmp->fs_type == "tmpfs"};
}

// svcd runs in the host's mount namespace, so File() sees the host's paths; NOT_FOUND is the
// one answer meaning "no such path" (a directory exists but cannot be read as a file).
bool AbsentOnHost(const std::string& path, ProcessInspector& inspector) {
  return absl::IsNotFound(inspector.File(path).status());
}

absl::StatusOr<Finding> ReadOnly(const absl::StatusOr<std::vector<Mount>>& own, const std::string& path,
                                 ProcessInspector& inspector) {
  if (!own.ok()) return own.status();
  const Mount* m = CoveringMount(*own, path);
  const bool ro = m != nullptr && HasOption(*m, "ro");
  if (!ro && AbsentOnHost(path, inspector)) return Finding{"absent", true};
  if (m == nullptr) return Finding{"no mount covers it", false};
  return Finding{absl::StrCat(ro ? "ro" : "rw", " (mount ", m->point, ", ", m->fs_type, ")"), ro};
}

absl::StatusOr<std::vector<Mount>> ReadMounts(pid_t pid, ProcessInspector& inspector) {
  SECUREOS_ASSIGN_OR_RETURN(std::string text, inspector.ProcFile(pid, "mountinfo"));
  absl::StatusOr<std::vector<Mount>> mounts = ParseMountinfo(text);
  if (!mounts.ok()) return Annotate(mounts.status(), absl::StrCat("/proc/", pid, "/mountinfo"));
  return mounts;
}

void CheckMounts(pid_t pid, const LevelExpectations& expect, ProcessInspector& inspector,
                 v1::Verification* v) {
  if (!expect.private_tmp && expect.read_only_mounts.empty()) return;
  const absl::StatusOr<std::vector<Mount>> own = ReadMounts(pid, inspector);
  if (expect.private_tmp) AddCheck(v, "mount./tmp", "own tmpfs", PrivateTmp(own, ReadMounts(kHostPid, inspector)));
  for (const std::string& raw : expect.read_only_mounts) {
    const std::string path = CleanPath(raw);
    AddCheck(v, "mount." + path, "ro", ReadOnly(own, path, inspector));
  }
}

// ---- cgroup limits ----

// The cgroup of the process in `h`, from /proc/<pid>/cgroup: v1 lines
// "ID:controller,list:/path", the v2 line "0::/path".
absl::StatusOr<std::string> CgroupPathIn(absl::string_view proc_cgroup, const CgroupHierarchy& h,
                                         CgroupController controller) {
  const absl::string_view name = sandboxd::CgroupControllerName(controller);
  for (absl::string_view line : absl::StrSplit(proc_cgroup, '\n', absl::SkipWhitespace())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (f.size() != 3) continue;
    const std::vector<absl::string_view> controllers = absl::StrSplit(f[1], ',', absl::SkipEmpty());
    if (h.version == 2 ? (f[0] == "0" && controllers.empty()) : absl::c_linear_search(controllers, name)) {
      return std::string(absl::StripTrailingAsciiWhitespace(f[2]));
    }
  }
  return absl::NotFoundError(absl::StrCat("no ", h.version == 2 ? "cgroup2" : std::string(name),
                                          " line in /proc/<pid>/cgroup"));
}

// <mount point><cgroup path>/<file>.
std::string LimitFile(const CgroupHierarchy& h, const std::string& cgroup, absl::string_view file) {
  return absl::StrCat(h.mount_point, cgroup == "/" ? "" : cgroup, "/", file);
}

// In v1, "no limit" reads back as LONG_MAX rounded down to a page (9223372036854771712 with
// 4 KiB pages); anything this large is no limit whatever the page size.
constexpr uint64_t kV1NoMemoryLimit = uint64_t{1} << 62;

absl::StatusOr<uint64_t> Number(absl::string_view text, const std::string& path) {
  uint64_t n = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &n)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a number: \"", absl::StripAsciiWhitespace(text), "\""));
  }
  return n;
}

// The kernel keeps memory limits in pages: a written limit reads back rounded down to one.
bool SameMemoryLimit(uint64_t actual, uint64_t expected) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return actual == expected - expected % page;
}

// The cgroup directory of `pid` in the hierarchy holding `controller`.
struct CgroupDir {
  const CgroupHierarchy* hierarchy;
  std::string path;  // Relative to the hierarchy's mount point.
};

absl::StatusOr<CgroupDir> FindCgroup(const absl::StatusOr<std::string>& proc_cgroup, const CgroupHierarchy& h,
                                     CgroupController controller) {
  if (!proc_cgroup.ok()) return proc_cgroup.status();
  SECUREOS_ASSIGN_OR_RETURN(std::string path, CgroupPathIn(*proc_cgroup, h, controller));
  return CgroupDir{&h, std::move(path)};
}

absl::StatusOr<Finding> MemoryLimit(const CgroupDir& dir, uint64_t want, ProcessInspector& inspector) {
  const bool v2 = dir.hierarchy->version == 2;
  const std::string path = LimitFile(*dir.hierarchy, dir.path, v2 ? "memory.max" : "memory.limit_in_bytes");
  SECUREOS_ASSIGN_OR_RETURN(std::string text, inspector.File(path));
  if (absl::StripAsciiWhitespace(text) == "max") return Finding{"max", false};
  SECUREOS_ASSIGN_OR_RETURN(uint64_t bytes, Number(text, path));
  if (!v2 && bytes >= kV1NoMemoryLimit) return Finding{"max", false};
  return Finding{absl::StrCat(bytes), SameMemoryLimit(bytes, want)};
}

// Quota and period in microseconds; quota absent means no limit.
struct CpuQuota {
  std::optional<uint64_t> quota;
  uint64_t period = 0;
};

absl::StatusOr<CpuQuota> ReadCpuQuota(const CgroupDir& dir, ProcessInspector& inspector) {
  CpuQuota q;
  if (dir.hierarchy->version == 2) {
    // cpu.max: "<quota|max> <period>".
    const std::string path = LimitFile(*dir.hierarchy, dir.path, "cpu.max");
    SECUREOS_ASSIGN_OR_RETURN(std::string text, inspector.File(path));
    std::vector<absl::string_view> f = absl::StrSplit(text, absl::ByAnyChar(" \n"), absl::SkipEmpty());
    if (f.size() != 2) return absl::InvalidArgumentError(absl::StrCat(path, ": expected \"<quota> <period>\""));
    SECUREOS_ASSIGN_OR_RETURN(q.period, Number(f[1], path));
    if (f[0] != "max") {
      SECUREOS_ASSIGN_OR_RETURN(q.quota, Number(f[0], path));
    }
    return q;
  }
  const std::string quota_path = LimitFile(*dir.hierarchy, dir.path, "cpu.cfs_quota_us");
  SECUREOS_ASSIGN_OR_RETURN(std::string quota, inspector.File(quota_path));
  const std::string period_path = LimitFile(*dir.hierarchy, dir.path, "cpu.cfs_period_us");
  SECUREOS_ASSIGN_OR_RETURN(std::string period, inspector.File(period_path));
  SECUREOS_ASSIGN_OR_RETURN(q.period, Number(period, period_path));
  if (absl::StripAsciiWhitespace(quota) != "-1") {  // -1: no limit.
    SECUREOS_ASSIGN_OR_RETURN(q.quota, Number(quota, quota_path));
  }
  return q;
}

absl::StatusOr<Finding> CpuLimit(const CgroupDir& dir, uint32_t want_millis, ProcessInspector& inspector) {
  SECUREOS_ASSIGN_OR_RETURN(CpuQuota q, ReadCpuQuota(dir, inspector));
  if (!q.quota.has_value()) return Finding{"max", false};
  if (q.period == 0) return absl::InvalidArgumentError("cpu period 0");
  // millis = 1000 * quota / period, compared without rounding.
  const bool ok = *q.quota * 1000 == uint64_t{want_millis} * q.period;
  return Finding{absl::StrCat(*q.quota * 1000 / q.period, " millis (", *q.quota, "/", q.period, " us)"), ok};
}

absl::StatusOr<Finding> PidsLimit(const CgroupDir& dir, uint32_t want, ProcessInspector& inspector) {
  const std::string path = LimitFile(*dir.hierarchy, dir.path, "pids.max");
  SECUREOS_ASSIGN_OR_RETURN(std::string text, inspector.File(path));
  if (absl::StripAsciiWhitespace(text) == "max") return Finding{"max", false};
  SECUREOS_ASSIGN_OR_RETURN(uint64_t n, Number(text, path));
  return Finding{absl::StrCat(n), n == want};
}

template <typename Limit>
absl::StatusOr<Finding> CgroupLimit(const absl::StatusOr<std::string>& proc_cgroup, const CgroupLayout& layout,
                                    CgroupController controller, Limit limit) {
  // A limit the host cannot enforce is not in force: a failure, though nothing was unreadable.
  const CgroupHierarchy* h = layout.Find(controller);
  if (h == nullptr) {
    return Finding{absl::StrCat("no ", sandboxd::CgroupControllerName(controller), " controller on this host"), false};
  }
  SECUREOS_ASSIGN_OR_RETURN(CgroupDir dir, FindCgroup(proc_cgroup, *h, controller));
  return limit(dir);
}

void CheckCgroups(pid_t pid, const LevelExpectations& expect, const CgroupLayout& layout,
                  ProcessInspector& inspector, v1::Verification* v) {
  if (!expect.memory_bytes && !expect.cpu_millis && !expect.pids) return;
  const absl::StatusOr<std::string> proc_cgroup = inspector.ProcFile(pid, "cgroup");
  if (expect.memory_bytes) {
    const uint64_t want = *expect.memory_bytes;
    AddCheck(v, "cgroup.memory", absl::StrCat(want),
             CgroupLimit(proc_cgroup, layout, CgroupController::kMemory,
                         [&](const CgroupDir& d) { return MemoryLimit(d, want, inspector); }));
  }
  if (expect.cpu_millis) {
    const uint32_t want = *expect.cpu_millis;
    AddCheck(v, "cgroup.cpu", absl::StrCat(want, " millis"),
             CgroupLimit(proc_cgroup, layout, CgroupController::kCpu,
                         [&](const CgroupDir& d) { return CpuLimit(d, want, inspector); }));
  }
  if (expect.pids) {
    const uint32_t want = *expect.pids;
    AddCheck(v, "cgroup.pids", absl::StrCat(want),
             CgroupLimit(proc_cgroup, layout, CgroupController::kPids,
                         [&](const CgroupDir& d) { return PidsLimit(d, want, inspector); }));
  }
}

// ---- The real inspector ----

class HostInspector : public ProcessInspector {
 public:
  explicit HostInspector(const std::string& capd_socket)
      : stub_(capd::v1::Capd::NewStub(
            UnixChannel(capd_socket))) {}

  absl::StatusOr<capd::v1::ProcessCapabilities> Capabilities(pid_t pid) override {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCapdDeadline));
    capd::v1::GetProcessCapabilitiesRequest req;
    req.set_pid(pid);
    capd::v1::ProcessCapabilities resp;
    absl::Status s = FromGrpcStatus(stub_->GetProcessCapabilities(&ctx, req, &resp));
    if (!s.ok()) return Annotate(s, absl::StrCat("capd GetProcessCapabilities ", pid));
    return resp;
  }

  absl::StatusOr<std::string> ProcFile(pid_t pid, const std::string& name) override {
    return ReadFile(absl::StrCat("/proc/", ProcDir(pid), "/", name));
  }

  absl::StatusOr<uint64_t> NamespaceInode(pid_t pid, const std::string& ns) override {
    const std::string path = absl::StrCat("/proc/", ProcDir(pid), "/ns/", ns);
    struct stat st {};
    // stat follows the magic link to the namespace's nsfs inode, which identifies it.
    if (::stat(path.c_str(), &st) != 0) return ErrnoToStatus(errno, absl::StrCat("stat ", path));
    return static_cast<uint64_t>(st.st_ino);
  }

  absl::StatusOr<std::string> File(const std::string& path) override { return ReadFile(path); }

 private:
  std::unique_ptr<capd::v1::Capd::Stub> stub_;
};

}  // namespace

std::unique_ptr<ProcessInspector> NewProcessInspector(const std::string& capd_socket) {
  return std::make_unique<HostInspector>(capd_socket);
}

v1::Verification Verify(pid_t pid, const LevelExpectations& expect, const sandboxd::CgroupLayout& layout,
                        ProcessInspector& inspector) {
  v1::Verification v;
  v.set_pid(pid);
  *v.mutable_time() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(absl::Now()));

  const absl::StatusOr<capd::v1::ProcessCapabilities> caps = inspector.Capabilities(pid);
  CheckCapabilities(caps, expect, &v);
  AddCheck(&v, "no_new_privs", expect.no_new_privs ? "1" : "any", NoNewPrivs(caps, expect.no_new_privs));

  const absl::StatusOr<std::string> status = inspector.ProcFile(pid, "status");
  AddCheck(&v, "seccomp", expect.seccomp_filter ? SeccompText("2") : "any", Seccomp(status, expect.seccomp_filter));
  if (expect.host_uid.has_value()) {
    AddCheck(&v, "uid", absl::StrCat(*expect.host_uid), RealUid(status, *expect.host_uid));
  }

  for (const std::string& ns : expect.new_namespaces) {
    AddCheck(&v, "namespace." + ns, "own", CompareNamespace(pid, ns, inspector));
  }
  CheckMounts(pid, expect, inspector, &v);
  CheckCgroups(pid, expect, layout, inspector, &v);

  bool ok = true;
  for (const v1::Check& c : v.checks()) ok = ok && c.ok();
  v.set_ok(ok);
  return v;
}

std::string DescribeFailures(const v1::Verification& v) {
  std::vector<std::string> failed;
  for (const v1::Check& c : v.checks()) {
    if (!c.ok()) failed.push_back(absl::StrCat(c.name(), ": expected ", c.expected(), ", got ", c.actual()));
  }
  return absl::StrJoin(failed, "; ");
}

}  // namespace secureos::svcd
