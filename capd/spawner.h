// Launching a process with exactly the capabilities of a plan.
//
// Security notes: this is where host processes gain capabilities. In the child, in this
// order and with raw syscalls only (no allocation, no locks; errors go back over a
// close-on-exec pipe as {step, errno, index of the cgroup or path}):
//   reset signal mask and dispositions; setsid (no controlling terminal to inject into);
//   stdio; every other fd close-on-exec; join each cgroup (write "0" to the cgroup.procs
//   fds the parent opened); the mount view, when the plan has one (below); rlimits; chdir;
//   securebits (NOROOT, NO_SETUID_FIXUP, KEEP_CAPS locked) -- so the uid change below
//   cannot add or silently drop capabilities; drop every capability outside the plan from
//   the bounding set; setgroups, setresgid, setresuid; capset P=E=I=plan; clear ambient and
//   raise the plan's capabilities into it; no_new_privs (so setuid and file-capability
//   binaries gain nothing); execve.
// After exec the process holds the plan's set in all five sets and nothing else.
//
// The mount view (SpawnRequest.mounts: level-2 PrivateTmp=/ProtectSystem=) is the one
// exception to "capd creates no namespaces" (shared/DESIGN.md), forced by the kernel: the
// binds and mount_setattr need CAP_SYS_ADMIN in the initial user namespace, in the very
// process that afterwards holds exactly its granted capabilities, and sandboxd cannot make
// a host process with host capabilities (its workloads hold none). It is narrow: a mount
// namespace only (no user, pid, net, ipc or uts namespace), and only these steps, in this
// order:
//   unshare(CLONE_NEWNS);
//   "/" made MS_REC|MS_PRIVATE before anything is mounted (no mount reaches the host or
//   comes from it);
//   each read-write tree cloned as the host has it (open_tree OPEN_TREE_CLONE|AT_RECURSIVE);
//   each read-only path bound onto itself (MS_BIND|MS_REC) and made read-only with
//   everything below it (mount_setattr AT_RECURSIVE, MOUNT_ATTR_RDONLY: the flags of this
//   namespace's copies of the mounts, never the host's); "/" is not bound, only made
//   read-only: it already is a mount of the namespace's own, and the process would not see
//   a bind onto it (lookups start at its root, the mount below);
//   each read-write tree attached onto its path (move_mount): writable exactly where the
//   host's is;
//   a tmpfs at /tmp (mode 1777, nosuid, nodev), last, so a read-only "/" leaves it writable.
// Paths are checked in the parent (BuildSpawnPlan); the child uses the plan's strings. It
// all happens before the uid and capability steps, so what it needs is gone by exec.
//
// The child is started as posix_spawn starts one: clone(CLONE_VM | CLONE_VFORK) on its
// own stack, all signals blocked across the clone. It shares capd's memory until exec, so
// it only reads the plan and writes its own stack. The calling thread waits until the
// child has exec'd or died; a child stuck before exec (a cwd on a hung network
// filesystem) holds that one thread, never capd's others.
// capd must hold CAP_SETPCAP, CAP_SETUID, CAP_SETGID, CAP_SYS_ADMIN (the mount view) and
// every capability it hands out.
#ifndef SECUREOS_CAPD_SPAWNER_H_
#define SECUREOS_CAPD_SPAWNER_H_

#include <sys/types.h>

#include "absl/status/statusor.h"
#include "capd/spawn_plan.h"
#include "common/fd.h"

namespace secureos::capd {

struct LaunchedProcess {
  pid_t pid = -1;
  uint64_t start_time = 0;
  UniqueFd pidfd;
  UniqueFd stdout_read;  // OUTPUT_MODE_STREAM only.
  UniqueFd stderr_read;
};

// Starts a child, applies the plan in it and execs. On failure nothing runs and the error
// names the step and what it was at ("setresuid: Operation not permitted", "execve /bin/x:
// No such file...", "join cgroup /sys/fs/cgroup/pids/x: ...", "bind read-only path /usr: ...").
absl::StatusOr<LaunchedProcess> Launch(SpawnPlan& plan);

}  // namespace secureos::capd

#endif  // SECUREOS_CAPD_SPAWNER_H_
