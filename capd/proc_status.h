// What the kernel says about a process's privileges, read from /proc/<pid>/status and
// /proc/<pid>/stat. These files are the kernel's own view of all five capability sets,
// no_new_privs, the seccomp mode and every uid and gid, read in one go.
//
// Securebits are not here: Linux shows them only to the process itself (prctl), so capd
// reports them for the processes it spawned (it set them) and as unknown otherwise.
#ifndef SECUREOS_CAPD_PROC_STATUS_H_
#define SECUREOS_CAPD_PROC_STATUS_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/cap_set.h"
#include "common/proc_stat.h"  // ReadStartTime, ReadState: used with ProcStatus.

namespace secureos::capd {

struct ProcStatus {
  pid_t pid = 0;
  std::string name;                  // "Name:" (comm).
  std::array<uid_t, 4> uids{};       // real, effective, saved, filesystem.
  std::array<gid_t, 4> gids{};
  std::vector<gid_t> groups;
  CapSet inheritable, permitted, effective, bounding, ambient;
  bool no_new_privs = false;
  int seccomp = 0;                   // 0 disabled, 1 strict, 2 filter.
  uint64_t start_time = 0;           // /proc/<pid>/stat field 22, clock ticks since boot.
};

// Parses the text of /proc/<pid>/status (without the start time).
absl::StatusOr<ProcStatus> ParseProcStatus(absl::string_view text);

// Reads both files of `pid` under `proc` ("/proc"). NOT_FOUND when the process is gone.
absl::StatusOr<ProcStatus> ReadProcStatus(pid_t pid, const std::string& proc = "/proc");


}  // namespace secureos::capd

#endif  // SECUREOS_CAPD_PROC_STATUS_H_
