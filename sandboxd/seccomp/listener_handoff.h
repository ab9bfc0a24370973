// Loading a compiled filter in the workload's child and handing its user-notify listener to
// the supervising parent over a socket (SCM_RIGHTS).
//
// Child, last step before execve, on a socket at a fixed fd `launcher_fd` that is >= the
// workload's RLIMIT_NOFILE hard limit (so that the workload can never own that number, and
// the filter's "sendmsg on launcher_fd" exception is useless to it):
//   InstallFilterAndSendListener(filter.program(), launcher_fd)   then execve.
// The listener is created close-on-exec by the kernel and the launcher socket should be too,
// so the workload holds neither after execve; the child must not close them itself (close
// would already go through the filter).
// Parent: ReceiveListener(its end of the socket), then a SeccompSupervisor on the fd.
#ifndef SECUREOS_SANDBOXD_SECCOMP_LISTENER_HANDOFF_H_
#define SECUREOS_SANDBOXD_SECCOMP_LISTENER_HANDOFF_H_

#include <linux/filter.h>

#include "absl/status/statusor.h"
#include "common/fd.h"

namespace secureos::sandboxd {

// Sets no_new_privs, loads `program` with SECCOMP_FILTER_FLAG_NEW_LISTENER and sends the
// listener over `launcher_fd` (one byte of data plus the fd). Returns 0, or -errno of the
// step that failed. Async-signal-safe: raw syscalls only, no allocation; for the child
// between fork/clone and exec.
int InstallFilterAndSendListener(const sock_fprog* program, int launcher_fd);

// Receives the listener sent by InstallFilterAndSendListener on `socket_fd` (blocking;
// O_CLOEXEC). FAILED_PRECONDITION when the other side closed without sending one (the
// child failed before: the parent must have closed its copy of the child's end).
absl::StatusOr<UniqueFd> ReceiveListener(int socket_fd);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_SECCOMP_LISTENER_HANDOFF_H_
