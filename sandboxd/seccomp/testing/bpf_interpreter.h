// A classic-BPF interpreter for seccomp programs, for tests: it runs a compiled filter on a
// seccomp_data in user space, so that what the kernel program decides can be compared with
// CompiledFilter::Decide on many inputs without loading anything into the kernel.
// Implements the instructions the kernel's seccomp checker accepts (loads of seccomp_data,
// scratch memory, ALU, jumps, returns).
#ifndef SECUREOS_SANDBOXD_SECCOMP_TESTING_BPF_INTERPRETER_H_
#define SECUREOS_SANDBOXD_SECCOMP_TESTING_BPF_INTERPRETER_H_

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>

#include "absl/status/statusor.h"

namespace secureos::sandboxd::testing {

// The SECCOMP_RET_* value the program returns for `data`; INVALID_ARGUMENT for an
// instruction it does not know or an out-of-range access or jump.
absl::StatusOr<uint32_t> RunSeccompProgram(const sock_fprog& program, const seccomp_data& data);

}  // namespace secureos::sandboxd::testing

#endif  // SECUREOS_SANDBOXD_SECCOMP_TESTING_BPF_INTERPRETER_H_
