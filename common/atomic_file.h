// State files: written so that a crash at any point leaves either the old or the new
// content, never a mix (temp file in the same directory, rename over the old one).
#ifndef SECUREOS_COMMON_ATOMIC_FILE_H_
#define SECUREOS_COMMON_ATOMIC_FILE_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace secureos {

// What a write must survive.
enum class Durability {
  // Power loss and kernel crash: the file and its directory are fsynced. For state that
  // outlives the machine's uptime (grants, audit logs).
  kPowerLoss,
  // The writer's own crash (kill -9) only: rename's atomicity is enough and no fsync is paid.
  // For state that describes live processes, which a power loss ends anyway.
  kProcessCrash,
};

// Replaces `path` with `content`, file mode `mode`. The directory must exist.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view content,
                                 mode_t mode = 0600,
                                 Durability durability = Durability::kPowerLoss);

// Creates `dir` with `mode` and its missing parents with 0755 (as `mkdir -p -m`), neither
// filtered by the umask. Existing directories are left as they are.
absl::Status MakeDirs(const std::string& dir, mode_t mode = 0700);

}  // namespace secureos

#endif  // SECUREOS_COMMON_ATOMIC_FILE_H_
