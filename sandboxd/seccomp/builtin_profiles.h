// The built-in seccomp profiles, in their written form (rules may name groups such as
// "@file-system"; ResolveProfile expands them).
//
//   default     An allowlist close to Docker's default profile; unmatched syscalls fail with
//               EPERM. Refused: @clock, @debug (ptrace, process_vm_*, perf_event_open, ...),
//               @io-uring, @keyring, @module, @mount, @namespace (unshare, setns), @obsolete,
//               @raw-io, @reboot, @swap, bpf, acct, userfaultfd, syslog, quotactl,
//               open_by_handle_at, fanotify, sethostname... clone is allowed only without
//               namespace flags (CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP);
//               clone3 fails with ENOSYS, because its flags live in memory where seccomp cannot
//               look, and glibc then falls back to clone; socket(AF_VSOCK) and personality
//               values other than Docker's five are refused.
//   strict      A much smaller allowlist: enough for /bin/sh pipelines, coreutils and
//               `python3 -c` scripts. File I/O, memory, signals, timers, pipes, reading one's
//               own identity, fork/vfork/clone without namespace flags, wait, exec, exit.
//               No networking: the one socket allowed is an AF_UNIX datagram socket, with
//               connect, sendto and sendmsg, for sd_notify(3) to the socket svcd binds
//               into the view (no receiving, no socketpair, no other family), and its
//               SO_SNDBUF get/setsockopt. No SysV/POSIX IPC, no chown, no setuid family, no
//               prctl but reading one's own capability state (PR_CAPBSET_READ,
//               PR_GET_SECUREBITS, PR_GET_NO_NEW_PRIVS, PR_CAP_AMBIENT_IS_SET), no
//               scheduling changes, no seccomp/Landlock.
//   unconfined  No filter at all. Only ever used when spelled out.
//
// Every profile is further given what sandboxd's launcher needs (compiled_filter.h).
#ifndef SECUREOS_SANDBOXD_SECCOMP_BUILTIN_PROFILES_H_
#define SECUREOS_SANDBOXD_SECCOMP_BUILTIN_PROFILES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/sandboxd.pb.h"

namespace secureos::sandboxd {

inline constexpr char kUnconfinedProfile[] = "unconfined";

// "default", "strict", "unconfined".
const std::vector<std::string>& BuiltinProfileNames();

// The built-in profile called `name`; NOT_FOUND for any other name.
absl::StatusOr<v1::SeccompProfile> BuiltinProfile(absl::string_view name);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_SECCOMP_BUILTIN_PROFILES_H_
