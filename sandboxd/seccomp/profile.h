// Seccomp profiles: validation and resolution into explicit rules, and the allowlist that
// learning mode produces.
//
// Semantics of a profile (what CompiledFilter enforces):
//   - For a syscall, the last rule that lists it and whose arg filters all hold decides.
//     A syscall no rule matches gets the default action.
//   - ERRNO fails the syscall with errno_value (EPERM when 0); KILL_PROCESS kills the whole
//     workload; LOG lets it run; all three are reported as violations.
//   - Arg filters compare the raw 64-bit register values (as libseccomp does on x86_64): an
//     `int` argument with garbage in its upper half does not equal its lower half.
//   - Whatever the profile says, sandboxd's launcher keeps execve, exit, exit_group,
//     rt_sigreturn and sendmsg on its own socket (compiled_filter.h).
#ifndef SECUREOS_SANDBOXD_SECCOMP_PROFILE_H_
#define SECUREOS_SANDBOXD_SECCOMP_PROFILE_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/sandboxd.pb.h"

namespace secureos::sandboxd {

// Validates `profile` and expands it into explicit rules:
//   - base "default"/"strict": the built-in's rules come first, then `rules`; default_action
//     and default_errno fall back to the built-in's, then to ERRNO/EPERM. `base` stays set,
//     naming the profile in violation reports ("default action of profile default").
//   - base "unconfined": {base: "unconfined", default_action: ALLOW}; rules are an error.
//   - oci_json: imported (oci_import.h) instead; base, rules and the defaults must be unset.
//   - Every rule lists syscall names only: a rule naming groups becomes one rule per group
//     (so that a rule still reads as "@mount") plus one for its plain names, in place.
//   - default_errno and errno_value are explicit (EPERM for ERRNO when unset, else 0).
// Resolving a resolved profile changes nothing. Errors are one INVALID_ARGUMENT naming every
// bad field under `field` (the profile's own path in the request):
//   seccomp.base: unknown profile "defualt" (default, strict, unconfined)
//   seccomp.rules[1].syscalls[0]: unknown syscall "opn"
//   seccomp.rules[0].args[0].index: must be 0-5, got 7
//   seccomp.oci_json: syscalls[3].action: unknown action "SCMP_ACT_FOO"
absl::StatusOr<v1::SeccompProfile> ResolveProfile(const v1::SeccompProfile& profile,
                                                  absl::string_view field = "seccomp");

// Syscalls every profile allows without condition, for the launcher (and the exec).
const std::vector<std::string>& AlwaysAllowedSyscalls();

// The allowlist learned from the syscall numbers a workload used: default ERRNO (EPERM), one
// ALLOW rule listing their names (sorted) plus AlwaysAllowedSyscalls(). Numbers libseccomp
// cannot name are left out (they keep failing with ENOSYS).
v1::SeccompProfile LearnedProfile(const std::set<int>& used_numbers);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_SECCOMP_PROFILE_H_
