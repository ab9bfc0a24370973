// Starting a workload inside its namespaces, filesystem view, limits and seccomp filter.
//
// Security notes. The child is made by clone3 with the plan's namespace flags and
// CLONE_PIDFD; it shares nothing with sandboxd but what clone3 copies. In the child, with raw
// syscalls on data the parent prepared (no allocation, no locks):
//   wait for the parent (which writes the id maps and places the child in its cgroups);
//   signal dispositions reset, then the mask cleared; setsid (no controlling terminal,
//   so no TIOCSTI into sandboxd's); hostname; loopback up; the filesystem view and
//   pivot_root (or chdir); stdio; every other fd close-on-exec; rlimits; no
//   supplementary groups; with a user namespace, securebits NOROOT | NO_SETUID_FIXUP |
//   KEEP_CAPS, all locked, so uid 0 inside gains nothing at exec, and the bounding set
//   reduced to the kept capabilities; setresgid, setresuid; capset and ambient to the kept
//   set (empty unless capd authorized some); die-with-parent for one-shot runs;
//   no_new_privs; the seccomp filter, last; execve.
// An exec into a running workload (LaunchPlan::join_pidfd) joins its namespaces with
// setns(2) before everything else and then takes the same steps (no hostname, loopback or
// filesystem view: those are the workload's already), so it holds exactly what the
// workload's first process holds.
// Without a user namespace (level 3) securebits and the bounding set stay as sandboxd's:
// both need CAP_SETPCAP on the host, which only capd holds. The workload then runs as a
// non-root host uid (workload_plan refuses uid/gid 0 there), the change to it from root
// clears every capability set but the bounding one, and no_new_privs means exec never adds
// one back; capd sees a full CapBnd with empty CapPrm/CapEff/CapAmb/CapInh.
// The seccomp listener goes back to sandboxd over the launch socket, which the child holds
// at fd number `launcher_fd`: equal to the workload's RLIMIT_NOFILE hard limit, so that
// after exec (the socket is close-on-exec) the workload can never own that number, and the
// filter's one exception (sendmsg on that fd) is dead.
#ifndef SECUREOS_SANDBOXD_LAUNCHER_H_
#define SECUREOS_SANDBOXD_LAUNCHER_H_

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/fd.h"
#include "common/process_spec.h"
#include "sandboxd/fs/fs_plan.h"

namespace secureos::sandboxd {

// Everything the child needs, prepared by the parent.
struct LaunchPlan {
  uint64_t clone_flags = 0;  // CLONE_NEW* only.
  // Exec into a running workload instead of new namespaces (clone_flags 0): the pidfd of its
  // first process, and the namespaces (CLONE_NEW*) to join, CLONE_NEWPID included. The child
  // joins them with setns(2) first thing; the pid namespace is entered by the launching
  // thread around the clone (setns of CLONE_NEWPID only sets where children go).
  int join_pidfd = -1;
  uint64_t join_flags = 0;
  // With CLONE_NEWUSER: written to /proc/<pid>/{uid,gid}_map by the parent.
  std::string uid_map;
  std::string gid_map;
  uid_t uid = 0;  // Inside the user namespace when there is one.
  gid_t gid = 0;
  std::string hostname;  // With CLONE_NEWUTS.
  bool loopback = false;  // Bring lo up (with CLONE_NEWNET).
  std::optional<FsPlan> fs;  // With CLONE_NEWNS; otherwise `cwd` is used as is.
  std::string cwd = "/";
  std::vector<std::pair<int, rlimit>> rlimits;  // Includes RLIMIT_NOFILE, hard == launcher_fd.
  int launcher_fd = 0;
  uint64_t keep_caps = 0;  // Capability mask kept inside the user namespace.
  const sock_fprog* seccomp = nullptr;  // Null: no filter (the spelled-out "unconfined").
  bool die_with_parent = false;
  // Set by Prepare: the child stops after no_new_privs, before its seccomp filter and
  // execve, until Release.
  bool hold = false;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  Stdio stdio;
  // Views of argv/env for execve; filled by Launch.
  std::vector<char*> argv_ptrs;
  std::vector<char*> env_ptrs;
};

struct LaunchedWorkload {
  pid_t pid = -1;
  UniqueFd pidfd;
  UniqueFd seccomp_listener;  // Invalid without a filter.
  UniqueFd stdout_read;       // Streamed output only.
  UniqueFd stderr_read;
};

// Called with the child's pid after it exists and before it may go on: puts it in its
// cgroups. An error kills the child and fails the launch.
using BeforeStart = std::function<absl::Status(pid_t)>;

// Starts the workload. On failure nothing runs and the error names the step and path
// ("mount proc on /proc: Operation not permitted", "execve /bin/x: No such file...").
absl::StatusOr<LaunchedWorkload> Launch(LaunchPlan& plan, const BeforeStart& before_start);

// A child set up to just before its exec, waiting (the OCI "created" state: it has a pid,
// its namespaces, cgroups and network; it runs nothing of its own yet). If sandboxd goes
// away the child ends (its launch socket closes). `plan` must stay where it is until Release.
struct HeldChild {
  LaunchedWorkload workload;     // pid and pidfd so far.
  UniqueFd sock;                 // The launch socket.
  std::shared_ptr<void> stack;   // The child's stack, which it runs on until exec.
};

// Launch up to the wait. On failure nothing runs.
absl::StatusOr<HeldChild> Prepare(LaunchPlan& plan, const BeforeStart& before_start);
// Lets a held child install its filter and exec; the rest as Launch. On failure the child
// is killed.
absl::StatusOr<LaunchedWorkload> Release(LaunchPlan& plan, HeldChild held);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_LAUNCHER_H_
