// Where a daemon makes the cgroups of what it runs: the two forms of `cgroup_parent`
// (sandboxd's and svcd's configs).
//
//   "secureos/sandboxd"   beneath the root of every hierarchy: <mount>/secureos/sandboxd/<id>.
//                         Works anywhere and across restarts; under systemd the tree lies
//                         outside any unit, like docker's cgroupfs driver.
//   "@self/workloads"     beneath the cgroup the daemon was started in, in every hierarchy:
//                         the subtree systemd hands a unit with Delegate=yes, so systemd's
//                         rule that one manager owns each part of the tree holds.
//
// With "@self", at start (PlaceCgroups) the daemon moves itself into the leaf
// <own cgroup>/supervisor of every hierarchy: cgroup v2 lets a cgroup either hold processes or
// enable controllers for its children, not both, and the workloads need the controllers. A
// daemon that starts already in a "supervisor" leaf (systemd >= 254 with
// DelegateSubgroup=supervisor, or a restart that kept it) uses that leaf's parent.
//
// Restarts: systemd before 254 starts a delegated unit's process in the unit's cgroup; when
// that cgroup enables controllers (workloads survived the daemon, KillMode=process) the
// kernel refuses (EBUSY) and systemd falls back to an ancestor, often the root. So the base
// is recorded in the runtime directory, and a daemon that finds itself in an ancestor of the
// recorded base (which still exists) returns to it. With no record, a daemon in a root
// cgroup is refused: "@self" there would mean the whole host.
#ifndef SECUREOS_SANDBOXD_CGROUP_CGROUP_PLACEMENT_H_
#define SECUREOS_SANDBOXD_CGROUP_CGROUP_PLACEMENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sandboxd/cgroup/cgroup_layout.h"

namespace secureos::sandboxd {

// The prefix of the delegated form, and the leaf the daemon moves itself into.
inline constexpr absl::string_view kSelfCgroupPrefix = "@self/";
inline constexpr absl::string_view kSupervisorLeaf = "supervisor";

// Empty when `value` is a valid cgroup_parent (either form; components of [A-Za-z0-9._-],
// none empty, "." or ".."), else what is wrong with it, for a FieldErrors entry.
std::string CgroupParentProblem(absl::string_view value);

// Pure: the cgroup (absolute within its hierarchy, "/" for the root) that /proc/<pid>/cgroup
// text `proc_cgroup` names for each hierarchy of `layout`, in layout order. A v1 hierarchy
// matches the line listing one of its controllers, the cgroup2 mount the "0::" line.
// NOT_FOUND naming the mount point when a hierarchy has no line; INVALID_ARGUMENT naming the
// line number for a malformed one.
absl::StatusOr<std::vector<std::string>> CgroupsOf(const CgroupLayout& layout,
                                                   absl::string_view proc_cgroup);

struct CgroupPlacement {
  CgroupLayout layout;  // With each hierarchy's base set for "@self"; as given otherwise.
  std::string parent;   // Relative to each base: what Cgroup::Create/Adopt/SweepStale take.
};

// Resolves `cgroup_parent` for the calling process. The root-relative form changes nothing.
// "@self/<rest>": finds the base per hierarchy (see above), moves the process into
// <base>/supervisor in each, records the bases in `record_path` (atomically; its directory
// must exist) and returns the layout rebased there with parent <rest>. Errors name
// "cgroup_parent" (INVALID_ARGUMENT for a malformed value, FAILED_PRECONDITION for a daemon
// in a root cgroup without a usable record); a failed move is returned with the path.
absl::StatusOr<CgroupPlacement> PlaceCgroups(const CgroupLayout& layout,
                                             const std::string& cgroup_parent,
                                             const std::string& record_path);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_CGROUP_CGROUP_PLACEMENT_H_
