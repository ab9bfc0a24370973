#include "sandboxd/seccomp/syscall_names.h"

#include <seccomp.h>

#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"

namespace secureos::sandboxd {

SyscallLookup LookUpSyscall(absl::string_view name, int* nr) {
  const int n = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, std::string(name).c_str());
  if (n >= 0) {
    *nr = n;
    return SyscallLookup::kFound;
  }
  // libseccomp gives syscalls that x86_64 lacks negative "pseudo" numbers (below
  // __NR_SCMP_ERROR), and __NR_SCMP_ERROR for names it has never heard of.
  return n == __NR_SCMP_ERROR ? SyscallLookup::kUnknown : SyscallLookup::kOtherArch;
}

std::string SyscallNameOrEmpty(int nr) {
  if (nr < 0) return "";
  std::unique_ptr<char, decltype(&std::free)> name(
      seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr), &std::free);
  return name == nullptr ? "" : std::string(name.get());
}

std::string SyscallName(int nr) {
  std::string name = SyscallNameOrEmpty(nr);
  return name.empty() ? absl::StrCat("syscall_", nr) : name;
}

}  // namespace secureos::sandboxd
