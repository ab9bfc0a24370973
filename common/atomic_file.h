// Durable state files: written so that a crash at any point leaves either the old or the
// new content, never a mix (temp file in the same directory, fsync, rename, fsync dir).
#ifndef SECUREOS_COMMON_ATOMIC_FILE_H_
#define SECUREOS_COMMON_ATOMIC_FILE_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace secureos {

// Replaces `path` with `content`, file mode `mode`. The directory must exist.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view content,
                                 mode_t mode = 0600);

// Creates `dir` and its parents with `mode` (not filtered by the umask) when missing.
absl::Status MakeDirs(const std::string& dir, mode_t mode = 0700);

}  // namespace secureos

#endif  // SECUREOS_COMMON_ATOMIC_FILE_H_
