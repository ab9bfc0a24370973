// One workload's cgroup, spanning every hierarchy of a CgroupLayout.
//
// Create() makes <base>/<parent>/<name> in each hierarchy of the layout (base: the
// hierarchy's BaseDir(), its mount point unless a delegated subtree was given; v1
// hierarchies holding memory, cpu, cpuacct or pids, and the cgroup2 mount), writes the
// limits, and opens what the launcher needs to place its child:
//   - procs_fds(): one O_WRONLY|O_CLOEXEC descriptor of cgroup.procs per hierarchy. The
//     child calls EnterFromChild() (write "0" to each) after fork and before exec. The
//     kernel checks the credentials of the opener (root), not of the writer, so this still
//     works after the child dropped its uid or entered a new user/cgroup namespace.
//   - clone_into_fd(): on a pure v2 host, an O_DIRECTORY descriptor for clone3's
//     CLONE_INTO_CGROUP, which places the child atomically at creation.
// The descriptors are O_CLOEXEC, so the workload never inherits them (one would let it move
// any process into or out of its cgroup).
//
// Limits: memory -> v1 memory.limit_in_bytes (+ memory.memsw.limit_in_bytes to the same
// value when swap accounting exists, so swap cannot evade the limit), v2 memory.max (+
// memory.swap.max = 0 when present). CPU -> v1 cpu.cfs_period_us = 100000 and
// cpu.cfs_quota_us = 100 * millis, v2 cpu.max "<100 * millis> 100000". Pids -> pids.max.
// On v2 the controllers are enabled in cgroup.subtree_control of the base and of each
// parent component (the "no internal processes" rule applies: those cgroups must hold no
// process, which is the case for directories sandboxd owns, and for a delegated base once
// the daemon moved itself out of it: cgroup_placement.h).
//
// Parent directories are created 0755 when missing and are never removed by this class:
// they are shared by every workload (and by concurrent Create calls).
//
// Not thread-safe, except that procs_fds(), clone_into_fd() and EnterFromChild() may be
// used from a forked child while the parent waits.
#ifndef SECUREOS_SANDBOXD_CGROUP_CGROUP_H_
#define SECUREOS_SANDBOXD_CGROUP_CGROUP_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/fd.h"
#include "sandboxd/cgroup/cgroup_layout.h"

namespace secureos::sandboxd {

// Mirrors secureos.common.v1.ResourceLimits: absent means "not limited", never zero.
struct CgroupLimits {
  std::optional<uint64_t> memory_bytes;  // At least 1.
  std::optional<uint32_t> cpu_millis;    // Thousandths of a CPU; at least 10 (1 ms/100 ms).
  std::optional<uint32_t> pids;          // At least 1 (the workload itself counts).
};

// Usage read from the cgroup. Absent: the host cannot tell (no such controller or file).
struct CgroupStats {
  std::optional<uint64_t> memory_peak_bytes;  // v1 memory.max_usage_in_bytes, v2 memory.peak.
  // Usage minus inactive file cache (v1 total_inactive_file, v2 inactive_file), as docker
  // and the kubelet report it.
  std::optional<uint64_t> memory_working_set_bytes;
  std::optional<uint64_t> oom_kills;     // v1 memory.oom_control, v2 memory.events oom_kill.
  std::optional<uint64_t> cpu_usage_ns;  // v1 cpuacct.usage, v2 cpu.stat usage_usec.
  std::optional<uint64_t> pids_current;  // pids.current (tasks, i.e. threads, counted).
};

// Empty when `value` is a relative cgroup path (components of [A-Za-z0-9._-], none empty,
// "." or ".."; with `single`, exactly one component), else what is wrong with it.
std::string CgroupPathProblem(absl::string_view value, bool single);

class Cgroup {
 public:
  // Validates, then creates. `parent` is a relative path ("secureos/sandboxd") and `name`
  // one component; both use only [A-Za-z0-9._-] (and '/' between parent components), with
  // no empty, "." or ".." component: anything else is INVALID_ARGUMENT naming
  // "cgroup_parent" or "name". A limit for a controller the layout lacks is
  // INVALID_ARGUMENT "limits.memory_bytes: no memory controller on this host" (likewise
  // limits.cpu_millis, limits.pids), and so is a limit out of range; all are reported at
  // once, before anything is made. A leaf that already exists is ALREADY_EXISTS (a stale
  // cgroup may hold processes; it is never adopted). On any failure, the leaf directories
  // made so far are removed.
  static absl::StatusOr<std::unique_ptr<Cgroup>> Create(const CgroupLayout& layout,
                                                        const std::string& parent,
                                                        const std::string& name,
                                                        const CgroupLimits& limits);

  // Re-opens the existing cgroup <parent>/<name> of a workload a previous daemon run made
  // (limits are left as they are). NOT_FOUND when a hierarchy lacks it.
  static absl::StatusOr<std::unique_ptr<Cgroup>> Adopt(const CgroupLayout& layout,
                                                       const std::string& parent,
                                                       const std::string& name);

  // Unless Destroy() succeeded or Release() was called: KillAll() then Destroy(), logging
  // any failure.
  ~Cgroup();

  // Leaves the cgroup and its processes as they are when this object goes (a workload that
  // outlives the daemon, to be re-adopted by its next run).
  void Release();
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;

  // cgroup.procs of each hierarchy, open O_WRONLY|O_CLOEXEC. Stable for the object's life.
  absl::Span<const int> procs_fds() const {
    return absl::MakeConstSpan(procs_fds_.data(), procs_count_);
  }

  // For the child between fork/clone and exec: writes "0" (itself) to every procs fd with
  // raw write(2). No allocation, no lock: async-signal-safe. Returns 0, or the errno of the
  // first failed write.
  int EnterFromChild() const noexcept;

  // On a pure v2 host (CgroupLayout::unified()): the leaf opened O_RDONLY|O_DIRECTORY|
  // O_CLOEXEC, usable with clone3 CLONE_INTO_CGROUP. Otherwise -1: placing a child into
  // the cgroup2 hierarchy alone would miss the v1 ones, so use EnterFromChild().
  int clone_into_fd() const { return clone_into_.get(); }

  // SIGKILLs every process in the cgroup and waits until all hierarchies are empty, or
  // `timeout` passes (DEADLINE_EXCEEDED). Uses cgroup.kill when the cgroup2 hierarchy has
  // it (atomic, 5.14+), then, for v1, repeatedly reads cgroup.procs and kills what is
  // listed. Each pid is pinned with a pidfd and signalled only if it is still listed after
  // the pidfd was opened, so a recycled pid of an unrelated process is never killed.
  absl::Status KillAll(absl::Duration timeout = absl::Seconds(5));

  // Reads usage; FAILED_PRECONDITION after Destroy().
  absl::StatusOr<CgroupStats> Stats() const;

  // Usage of leaves another process made (svcd reading sandboxd's workloads, without asking
  // sandboxd, which may be stopped): `leaf_dirs` holds one directory per hierarchy of
  // `layout`, in layout order, as sandboxd's WorkloadInfo.cgroup_paths lists them. Reads
  // files only; a missing file (or leaf) leaves its fields absent.
  static absl::StatusOr<CgroupStats> StatsOf(const CgroupLayout& layout,
                                             const std::vector<std::string>& leaf_dirs);

  // Removes the leaf directories (parents stay), retrying rmdir for up to a second while
  // the kernel finishes emptying a cgroup (EBUSY). Still busy after that: FAILED_PRECONDITION
  // (processes remain: KillAll first). Idempotent.
  absl::Status Destroy();

  // The leaf directories, one per hierarchy, in layout order.
  std::vector<std::string> paths() const;

  // At start-up: removes the empty workload cgroups a previous run left under `parent` in
  // every hierarchy (a daemon killed before it cleaned up) and returns the leaves that
  // still hold processes, which it leaves alone.
  static std::vector<std::string> SweepStale(const CgroupLayout& layout, const std::string& parent);

 private:
  struct Member {
    CgroupHierarchy hierarchy;  // Version and controllers of the hierarchy.
    std::string path;           // The leaf.
    UniqueFd procs;
    bool exists = false;        // Made by us and not yet removed.
  };

  Cgroup() = default;
  absl::Status Make(const std::string& parent, const std::string& name);
  absl::Status ApplyLimits(const CgroupLimits& limits);
  absl::Status OpenFds();
  const Member* MemberFor(CgroupController controller) const;

  std::vector<Member> members_;
  std::array<int, CgroupLayout::kMaxHierarchies> procs_fds_{};
  size_t procs_count_ = 0;
  UniqueFd clone_into_;
  bool unified_ = false;
};

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_CGROUP_CGROUP_H_
