// Launching a process with exactly the capabilities of a plan.
//
// Security notes: this is where host processes gain capabilities. In the child, in this
// order and with raw syscalls only (no allocation, no locks; errors go back over a
// close-on-exec pipe as {step, errno}):
//   reset signal mask and dispositions; setsid (no controlling terminal to inject into);
//   stdio; every other fd close-on-exec; join the cgroup; rlimits; chdir;
//   securebits (NOROOT, NO_SETUID_FIXUP, KEEP_CAPS locked) -- so the uid change below
//   cannot add or silently drop capabilities; drop every capability outside the plan from
//   the bounding set; setgroups, setresgid, setresuid; capset P=E=I=plan; clear ambient and
//   raise the plan's capabilities into it; no_new_privs (so setuid and file-capability
//   binaries gain nothing); execve.
// After exec the process holds the plan's set in all five sets and nothing else.
//
// The child is started as posix_spawn starts one: clone(CLONE_VM | CLONE_VFORK) on its
// own stack, all signals blocked across the clone. It shares capd's memory until exec, so
// it only reads the plan and writes its own stack. The calling thread waits until the
// child has exec'd or died; a child stuck before exec (a cwd on a hung network
// filesystem) holds that one thread, never capd's others.
// capd must hold CAP_SETPCAP, CAP_SETUID, CAP_SETGID and every capability it hands out.
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
// names the step ("setresuid: Operation not permitted", "execve /bin/x: No such file...").
absl::StatusOr<LaunchedProcess> Launch(SpawnPlan& plan);

}  // namespace secureos::capd

#endif  // SECUREOS_CAPD_SPAWNER_H_
