// Strict parsers for the textual mount options of the sandboxd API, and the builder of the
// tmpfs mount data made from the parsed numbers.
//
// Security note: caller text never reaches mount(2) data. "size=1m,exec" or "mode=0755,uid=0"
// are refused by the parsers; the data string handed to the kernel is printed by
// TmpfsMountData from integers only.
#ifndef SECUREOS_SANDBOXD_FS_MOUNT_OPTIONS_H_
#define SECUREOS_SANDBOXD_FS_MOUNT_OPTIONS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace secureos::sandboxd {

// The largest size ParseSize accepts: 1 TiB.
inline constexpr uint64_t kMaxMountSize = uint64_t{1} << 40;

// Parses a size: decimal digits with an optional k, m or g suffix (case-insensitive,
// 1024-based), more than 0 and at most kMaxMountSize. Nothing else is accepted: no sign,
// no spaces, no hex, no exponent, no second option. Errors are INVALID_ARGUMENT with a
// message that quotes the text and says what is wrong, e.g.
// `"1m,exec" is not a size: unexpected ",exec" after "1m"`.
absl::StatusOr<uint64_t> ParseSize(absl::string_view text);

// Parses an octal mode of 3 or 4 digits ("755", "0755", "1777"); at most 07777.
absl::StatusOr<mode_t> ParseMode(absl::string_view text);

// Formats a mode as ParseMode reads it back ("0755", "1777").
std::string FormatMode(mode_t mode);

// The data of a tmpfs mount: "size=<bytes>,mode=<octal>". nosuid and nodev are not part of
// it: tmpfs refuses them as data ("tmpfs: Unknown parameter 'nosuid'", EINVAL); they are
// mount flags (MS_NOSUID | MS_NODEV), which the plan always sets.
std::string TmpfsMountData(uint64_t size_bytes, mode_t mode);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_FS_MOUNT_OPTIONS_H_
