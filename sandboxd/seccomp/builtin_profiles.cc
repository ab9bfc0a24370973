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
