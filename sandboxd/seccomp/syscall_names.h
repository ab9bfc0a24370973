// Syscall names and numbers on x86_64, the only architecture sandboxd filters, as libseccomp
// (2.5.4) knows them. A syscall newer than that libseccomp has no name here.
#ifndef SECUREOS_SANDBOXD_SECCOMP_SYSCALL_NAMES_H_
#define SECUREOS_SANDBOXD_SECCOMP_SYSCALL_NAMES_H_

#include <string>

#include "absl/strings/string_view.h"

namespace secureos::sandboxd {

// What libseccomp says about a name.
enum class SyscallLookup {
  kFound,      // A syscall on x86_64; *nr is its number.
  kUnknown,    // No syscall has that name on any architecture.
  kOtherArch,  // A syscall of another architecture only ("socketcall", "chown32").
};

// Looks `name` up on x86_64.
SyscallLookup LookUpSyscall(absl::string_view name, int* nr);

// The x86_64 name of `nr` ("ptrace"), or "" when libseccomp cannot name it.
std::string SyscallNameOrEmpty(int nr);

// The name of `nr`, or "syscall_<nr>" when libseccomp cannot name it.
std::string SyscallName(int nr);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_SECCOMP_SYSCALL_NAMES_H_
