// Named groups of syscalls ("@network-io", "@mount", ...) that seccomp rules may name instead
// of listing syscalls one by one.
//
// The group names follow systemd's SystemCallFilter= sets; the member lists are this
// project's own and hold only syscalls that libseccomp knows on x86_64 (the only architecture
// sandboxd filters: see compiled_filter.h). A syscall may belong to several groups, and a
// group may be defined in terms of others (@privileged includes @mount, @module, ...): the
// lists below are already expanded.
#ifndef SECUREOS_SANDBOXD_SECCOMP_SYSCALL_GROUPS_H_
#define SECUREOS_SANDBOXD_SECCOMP_SYSCALL_GROUPS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace secureos::sandboxd {

struct SyscallGroup {
  std::string name;                   // "@mount"
  std::string description;            // One line for humans.
  std::vector<std::string> syscalls;  // Expanded member names, sorted, without duplicates.
};

// Every group, sorted by name. Built once; safe to call from any thread.
const std::vector<SyscallGroup>& SyscallGroups();

// The group called `name` ("@mount"), or nullptr.
const SyscallGroup* FindSyscallGroup(absl::string_view name);

// The names of every group, comma-separated, for error messages.
std::string SyscallGroupNames();

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_SECCOMP_SYSCALL_GROUPS_H_
