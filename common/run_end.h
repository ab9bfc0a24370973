// Where a daemon's previous run ended its event stream (common.v1.RunEnd), kept across a
// restart in the daemon's state directory, so that a reader that missed the end of that run
// (monitord, down or behind while the daemon restarted) learns exactly how many events it
// missed instead of "an unknown number".
//
// Saved at a clean stop, after the last event; taken (read and removed) at start. A run that
// crashes leaves none, so its successor reports none: the count is then unknown, never wrong.
#ifndef SECUREOS_COMMON_RUN_END_H_
#define SECUREOS_COMMON_RUN_END_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "proto/common.pb.h"

namespace secureos {

// Writes <dir>/events.end (making dir, 0700, when missing).
absl::Status SaveRunEnd(const std::string& dir, const std::string& epoch, uint64_t last_sequence);

// Reads and removes <dir>/events.end; nullopt when there is none or it cannot be read (a
// problem is logged: the count is then unknown, as after a crash).
std::optional<common::v1::RunEnd> TakeRunEnd(const std::string& dir);

}  // namespace secureos

#endif  // SECUREOS_COMMON_RUN_END_H_
