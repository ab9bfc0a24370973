#include "sandboxd/seccomp/builtin_profiles.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"

namespace secureos::sandboxd {
namespace {

// CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
// CLONE_NEWCGROUP = 0x7e020000. (CLONE_NEWTIME is 0x80, which clone(2) reads as part of the
// exit signal; only clone3 and unshare take it, and both are refused.)
constexpr char kDefault[] = R"pb(
  default_action: SECCOMP_ACTION_ERRNO
  default_errno: 1
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: [
      "@aio",
      "@basic-io",
      "@chown",
      "@cpu-emulation",
      "@credentials",
      "@file-system",
      "@io-event",
      "@ipc",
      "@memory",
      "@network-io",
      "@process",
      "@resources",
      "@sandbox",
      "@setuid",
      "@signal",
      "@sync",
      "@system-info",
      "@timer"
    ]
  }
  # Later rules win: clone and personality are taken back, then allowed with conditions.
  rules { action: SECCOMP_ACTION_ERRNO syscalls: "clone" }
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "clone"
    args { index: 0 op: OP_MASKED_EQ value: 0x7e020000 value_two: 0 }
  }
  rules { action: SECCOMP_ACTION_ERRNO syscalls: "personality" }
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "personality"
    args { index: 0 op: OP_EQ value: 0 }
  }
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "personality"
    args { index: 0 op: OP_EQ value: 0x8 }
  }
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "personality"
    args { index: 0 op: OP_EQ value: 0x20000 }
  }
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "personality"
    args { index: 0 op: OP_EQ value: 0x20008 }
  }
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "personality"
    args { index: 0 op: OP_EQ value: 0xffffffff }
  }
  # AF_VSOCK reaches the hypervisor.
  rules {
    action: SECCOMP_ACTION_ERRNO
    syscalls: "socket"
    args { index: 0 op: OP_EQ value: 40 }
  }
)pb";

// Appended to both confining built-ins.
constexpr char kConfinedTail[] = R"pb(
  # glibc tries clone3 first and falls back to clone, whose flags the filter can see.
  rules { action: SECCOMP_ACTION_ERRNO errno_value: 38 syscalls: "clone3" quiet: true }
  # Keystroke injection into a terminal (TIOCSTI, TIOCLINUX): refused whatever the upper
  # 32 bits of the request, which the kernel ignores (the bubblewrap CVE-2017-5226 lesson).
  rules {
    action: SECCOMP_ACTION_ERRNO
    syscalls: "ioctl"
    args { index: 1 op: OP_MASKED_EQ value: 0xffffffff value_two: 0x5412 }
  }
  rules {
    action: SECCOMP_ACTION_ERRNO
    syscalls: "ioctl"
    args { index: 1 op: OP_MASKED_EQ value: 0xffffffff value_two: 0x541c }
  }
)pb";

constexpr char kStrict[] = R"pb(
  default_action: SECCOMP_ACTION_ERRNO
  default_errno: 1
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: [
      "@basic-io",
      "@credentials",
      "@file-system",
      "@io-event",
      "@memory",
      "@signal",
      "@sync",
      "@system-info",
      "@timer"
    ]
  }
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: [
      "execve",
      "exit",
      "exit_group",
      "fork",
      "vfork",
      "wait4",
      "waitid",
      "kill",
      "tkill",
      "tgkill",
      "getpid",
      "getppid",
      "gettid",
      "getpgid",
      "setpgid",
      "getpgrp",
      "getsid",
      "set_tid_address",
      "arch_prctl",
      "rseq",
      "set_robust_list",
      "get_robust_list",
      "futex",
      "restart_syscall",
      "pipe",
      "pipe2",
      "getrlimit",
      "prlimit64",
      "getrusage",
      "sched_getaffinity",
      "sched_yield"
    ]
  }
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "clone"
    args { index: 0 op: OP_MASKED_EQ value: 0x7e020000 value_two: 0 }
  }
  # sd_notify(3): svcd's level 4-5 services report READY=1, STATUS=... and watchdog pings
  # as datagrams to the AF_UNIX socket named by $NOTIFY_SOCKET, which svcd binds into the
  # view. So socket() is allowed for AF_UNIX (1) SOCK_DGRAM (2) only, whatever SOCK_CLOEXEC
  # or SOCK_NONBLOCK in the type's upper bits; and since that is the only socket the
  # workload can make (socketpair, accept and every other family stay refused), connect,
  # sendto and sendmsg are allowed on it without conditions. This reaches no network (path
  # sockets are found by inode, abstract ones live in the workload's own network
  # namespace) and no stream service; only datagram sockets visible in the view and
  # writable by the workload's uid, which svcd's view limits to its notify socket.
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "socket"
    args { index: 0 op: OP_EQ value: 1 }
    args { index: 1 op: OP_MASKED_EQ value: 0xf value_two: 2 }
  }
  rules { action: SECCOMP_ACTION_ALLOW syscalls: ["connect", "sendto", "sendmsg"] }
  # libsystemd's sd_notify grows the datagram socket's send buffer first: get/setsockopt
  # SOL_SOCKET (1) SO_SNDBUF (7), and SO_SNDBUFFORCE (32), which without CAP_NET_ADMIN
  # fails with EPERM on its own. No other option of any level.
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: ["getsockopt", "setsockopt"]
    args { index: 1 op: OP_EQ value: 1 }
    args { index: 2 op: OP_EQ value: 7 }
  }
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "setsockopt"
    args { index: 1 op: OP_EQ value: 1 }
    args { index: 2 op: OP_EQ value: 32 }
  }
  # prctl only to read one's own capability state, as systemd's tools (systemd-notify) do
  # at start: PR_CAPBSET_READ (23), PR_GET_SECUREBITS (27), PR_GET_NO_NEW_PRIVS (39) and
  # PR_CAP_AMBIENT (47) with PR_CAP_AMBIENT_IS_SET (1). Nothing that changes anything.
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "prctl"
    args { index: 0 op: OP_EQ value: 23 }
  }
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "prctl"
    args { index: 0 op: OP_EQ value: 27 }
  }
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "prctl"
    args { index: 0 op: OP_EQ value: 39 }
  }
  rules {
    action: SECCOMP_ACTION_ALLOW
    syscalls: "prctl"
    args { index: 0 op: OP_EQ value: 47 }
    args { index: 1 op: OP_EQ value: 1 }
  }
)pb";

constexpr char kUnconfined[] = R"pb(
  default_action: SECCOMP_ACTION_ALLOW
)pb";

}  // namespace

const std::vector<std::string>& BuiltinProfileNames() {
  static const std::vector<std::string>* const names =
      new std::vector<std::string>{"default", "strict", kUnconfinedProfile};
  return *names;
}

absl::StatusOr<v1::SeccompProfile> BuiltinProfile(absl::string_view name) {
  std::string text;
  if (name == "default") text = absl::StrCat(kDefault, kConfinedTail);
  if (name == "strict") text = absl::StrCat(kStrict, kConfinedTail);
  if (name == kUnconfinedProfile) text = kUnconfined;
  if (text.empty()) return absl::NotFoundError(absl::StrCat("no built-in profile ", name));
  v1::SeccompProfile profile;
  if (!google::protobuf::TextFormat::ParseFromString(text, &profile)) {
    return absl::InternalError(absl::StrCat("built-in profile ", name, " does not parse"));
  }
  return profile;
}

}  // namespace secureos::sandboxd
