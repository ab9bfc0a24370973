// A seccomp profile compiled into a classic-BPF program for the kernel, plus the same rules
// kept for user space, so that the supervisor can explain and enforce every refusal.
//
// How the program is built (libseccomp 2.5.4, x86_64 only):
//   - The kernel program only ever answers ALLOW or USER_NOTIF. Every other outcome (ERRNO,
//     KILL_PROCESS, LOG, and the default action unless it is ALLOW) is USER_NOTIF, and
//     SeccompSupervisor applies the real action after Decide(): -errno, killing the workload,
//     or SECCOMP_USER_NOTIF_FLAG_CONTINUE for LOG. The kernel program is exact where
//     libseccomp can express the profile and otherwise notifies more than needed (Decide()
//     then answers "allow" and the syscall continues unreported); it never allows what
//     Decide() refuses.
//   - Any architecture other than x86_64 kills the process (SCMP_FLTATR_ACT_BADARCH): 32-bit
//     `int $0x80` calls never reach the rules. libseccomp's x86_64 program also sends every
//     number with the x32 bit (nr >= 0x40000000, except -1) to that same kill action.
//   - Syscall numbers libseccomp cannot name (newer than it) are notified and answered
//     ENOSYS: "newer than the profile" reads as "not implemented", never as EPERM.
//   - The launcher's needs are allowed after every profile rule, so nothing can refuse them:
//     sendmsg when arg0 == launcher_fd (to hand the listener back; launcher_fd must be >=
//     the workload's RLIMIT_NOFILE hard limit so that the workload can never own it), and
//     execve, exit, exit_group, rt_sigreturn without condition. execveat is not among them.
//   - The program is generated here, in the parent: the child only calls seccomp(2) with it
//     (listener_handoff.h) and needs nothing from libseccomp.
//   - base "unconfined" compiles to no program at all, unless learning.
//   - Learning mode ignores the profile's rules: everything but the launcher's needs is
//     notified, recorded and continued.
#ifndef SECUREOS_SANDBOXD_SECCOMP_COMPILED_FILTER_H_
#define SECUREOS_SANDBOXD_SECCOMP_COMPILED_FILTER_H_

#include <linux/filter.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/sandboxd.pb.h"
#include "sandboxd/seccomp/arg_conditions.h"

namespace secureos::sandboxd {

class CompiledFilter {
 public:
  struct Decision {
    enum Kind { kAllow, kErrno, kKill, kLog, kEnosys };
    Kind kind = kAllow;
    int errno_value = 0;  // kErrno: the errno; kEnosys: ENOSYS.
    // Which rule decided: "rule 3 (@mount)", "rule 5 (ptrace)", "default action of profile
    // default", "launcher", "learning mode", "unconfined". Rule numbers index the resolved
    // profile's rules (ResolveProfile).
    std::string rule;
  };

  // Resolves `profile` (ResolveProfile, which leaves a resolved one unchanged) and compiles
  // it for a launcher whose socket is `launcher_fd`.
  // INVALID_ARGUMENT for a bad profile; INTERNAL when libseccomp fails.
  static absl::StatusOr<std::unique_ptr<CompiledFilter>> Compile(const v1::SeccompProfile& profile,
                                                                 bool learn, int launcher_fd);

  // The program for seccomp(SECCOMP_SET_MODE_FILTER); nullptr when unconfined.
  const sock_fprog* program() const { return code_.empty() ? nullptr : &program_; }
  bool learning() const { return learn_; }
  int launcher_fd() const { return launcher_fd_; }
  const v1::SeccompProfile& resolved() const { return resolved_; }

  // What the profile says about syscall `nr` with raw arguments `args`, evaluated in user
  // space with the profile's precedence (the last matching rule wins). Thread-safe.
  Decision Decide(int nr, const uint64_t args[6]) const;

  // "ptrace", or "syscall_<nr>" when libseccomp cannot name it.
  std::string SyscallName(int nr) const;

  // For reports: "errno EPERM", "killed", "logged", "ENOSYS (unknown to the profile)",
  // "allowed".
  static std::string DescribeAction(const Decision& decision);

 private:
  struct Rule {
    Decision decision;  // What the rule does when it matches.
    Conjunction condition;
    std::vector<int> numbers;  // The syscalls it covers.
    bool quiet = false;        // Answered in the kernel, never notified.
  };

  // The errno of a syscall whose last rule is quiet (unconditional, so it decides alone).
  std::optional<int> QuietErrno(int nr) const;

  CompiledFilter() = default;
  void AddRules();
  absl::Status BuildProgram();
  std::vector<ClassRule> KernelRules(int nr) const;
  bool KernelAllowsByDefault() const;

  v1::SeccompProfile resolved_;
  bool learn_ = false;
  int launcher_fd_ = -1;
  std::vector<Rule> rules_;                                 // Profile order, launcher last.
  std::unordered_map<int, std::vector<size_t>> by_number_;  // nr -> indexes into rules_.
  Decision default_;
  std::vector<sock_filter> code_;
  sock_fprog program_{};
};

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_SECCOMP_COMPILED_FILTER_H_
