// Where the cgroup controllers sandboxd uses live on this host.
//
// Hosts come in three shapes, and this library supports all of them:
//   - v2 only: one cgroup2 mount (usually /sys/fs/cgroup) holds every controller that is
//     listed in its root's cgroup.controllers.
//   - v1 only: one cgroup mount per hierarchy; each mount's super options name the
//     controllers bound to it ("memory", or "cpu,cpuacct" when co-mounted).
//   - hybrid: v1 hierarchies hold the controllers while a cgroup2 mount (typically
//     /sys/fs/cgroup/unified) holds none of them. A controller is bound to exactly one
//     hierarchy, so it never appears in both.
// The layout is read from /proc/self/mountinfo, never assumed from paths.
//
// The cgroup2 mount, when there is one, is always part of the layout even if it holds no
// controller sandboxd uses: a workload placed there too can be killed atomically with
// cgroup.kill and has its CPU time in cpu.stat, which every v2 cgroup provides.
#ifndef SECUREOS_SANDBOXD_CGROUP_CGROUP_LAYOUT_H_
#define SECUREOS_SANDBOXD_CGROUP_CGROUP_LAYOUT_H_

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace secureos::sandboxd {

// The controllers sandboxd limits or reads. cpuacct exists only in v1 (CPU time); in v2
// the same numbers come from cpu.stat.
enum class CgroupController { kMemory = 0, kCpu = 1, kCpuacct = 2, kPids = 3 };
inline constexpr int kCgroupControllerCount = 4;

// "memory", "cpu", "cpuacct", "pids": the kernel's own names.
absl::string_view CgroupControllerName(CgroupController controller);

// One mounted hierarchy.
struct CgroupHierarchy {
  int version = 0;          // 1 or 2.
  std::string mount_point;  // Absolute path of the mount.
  // The cgroup workload cgroups are made beneath, as a path within the hierarchy: "/" (its
  // root) unless the daemon was given a subtree of its own (cgroup_placement.h, "@self").
  std::string base = "/";
  // The controllers of CgroupController this hierarchy holds and that are usable (for v2:
  // listed in the mount root's cgroup.controllers). Empty only for the cgroup2 mount.
  std::vector<CgroupController> controllers;

  bool Holds(CgroupController controller) const;
  // The directory of `base`: mount_point itself for the root.
  std::string BaseDir() const;
};

class CgroupLayout {
 public:
  // Reads a whole file (used for <cgroup2 mount>/cgroup.controllers).
  using FileReader = std::function<absl::StatusOr<std::string>(const std::string& path)>;

  // Reads /proc/self/mountinfo and the cgroup2 root's cgroup.controllers.
  static absl::StatusOr<CgroupLayout> Discover();

  // Parses mountinfo text (proc(5) format). `read_file` is asked only for
  // "<cgroup2 mount point>/cgroup.controllers"; a failure there is returned, annotated.
  // Mounts hidden by a later mount on or above their mount point are ignored, as are
  // further mounts of a hierarchy already seen (bind mounts share its device number).
  // A malformed line is INVALID_ARGUMENT naming its line number.
  static absl::StatusOr<CgroupLayout> FromMountinfo(absl::string_view mountinfo,
                                                    const FileReader& read_file);

  // The hierarchy holding `controller`, or null when the host has none usable.
  const CgroupHierarchy* Find(CgroupController controller) const;

  // Every hierarchy a workload's cgroup spans, in mountinfo order: one per mount holding at
  // least one of our controllers, plus the cgroup2 mount. At most kMaxHierarchies.
  const std::vector<CgroupHierarchy>& hierarchies() const { return hierarchies_; }
  static constexpr size_t kMaxHierarchies = kCgroupControllerCount + 1;

  // The same hierarchies with `bases[i]` (absolute cgroup paths, e.g.
  // "/system.slice/secureos-sandboxd.service") as the base of hierarchy i. `bases` holds
  // one path per hierarchy.
  CgroupLayout WithBases(const std::vector<std::string>& bases) const;

  // True when a single cgroup2 hierarchy is all there is (pure v2 host): a child can then be
  // placed with clone3(CLONE_INTO_CGROUP) alone.
  bool unified() const;

  // For logs (each hierarchy's BaseDir()), e.g. "memory: v1 /sys/fs/cgroup/memory; cpu: v1 /sys/fs/cgroup/cpu;
  // cpuacct: v1 /sys/fs/cgroup/cpuacct; pids: v1 /sys/fs/cgroup/pids;
  // cgroup2: /sys/fs/cgroup/unified". Absent ones read "memory: none".
  std::string Describe() const;

 private:
  std::vector<CgroupHierarchy> hierarchies_;
};

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_CGROUP_CGROUP_LAYOUT_H_
