// /proc/<pid>/stat: what names a process uniquely across pid reuse (its start time) and
// its state. Shared by the daemons that re-adopt what they launched.
#ifndef SECUREOS_COMMON_PROC_STAT_H_
#define SECUREOS_COMMON_PROC_STAT_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace secureos {

// The start time from the text of /proc/<pid>/stat (field 22, after the last ')').
absl::StatusOr<uint64_t> ParseStartTime(absl::string_view stat_text);

// Just the start time: with the pid it names a process uniquely across pid reuse.
// NOT_FOUND when the process is gone.
absl::StatusOr<uint64_t> ReadStartTime(pid_t pid, const std::string& proc = "/proc");

// The state letter of /proc/<pid>/stat field 3 ('R', 'S', 'Z' for an unreaped exit, ...).
absl::StatusOr<char> ParseState(absl::string_view stat_text);
absl::StatusOr<char> ReadState(pid_t pid, const std::string& proc = "/proc");

}  // namespace secureos

#endif  // SECUREOS_COMMON_PROC_STAT_H_
