// What a process holds, from /proc: its resident memory and its open descriptors. For the
// tests and benchmarks that watch the daemons for leaks and report their footprint.
#ifndef SECUREOS_COMMON_PROC_USAGE_H_
#define SECUREOS_COMMON_PROC_USAGE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace secureos {

// VmRSS from the text of /proc/<pid>/status, KiB. INTERNAL when the line is missing or
// malformed (a kernel thread has none).
absl::StatusOr<int64_t> ParseResidentKib(absl::string_view status_text);

// The resident memory of `pid`, KiB. NOT_FOUND when the process is gone.
absl::StatusOr<int64_t> ReadResidentKib(pid_t pid, const std::string& proc = "/proc");

// How many descriptors `pid` has open. NOT_FOUND when the process is gone.
absl::StatusOr<int> CountOpenFds(pid_t pid, const std::string& proc = "/proc");

}  // namespace secureos

#endif  // SECUREOS_COMMON_PROC_USAGE_H_
