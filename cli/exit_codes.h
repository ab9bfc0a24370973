// secctl's exit codes, for scripts. Printed by `secctl --help`.
#ifndef SECUREOS_CLI_EXIT_CODES_H_
#define SECUREOS_CLI_EXIT_CODES_H_

#include "absl/status/status.h"

namespace secureos::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;            // The operation failed (any other reason).
inline constexpr int kExitUsage = 2;             // Bad command line.
inline constexpr int kExitUnavailable = 3;       // A daemon is not running or not reachable.
inline constexpr int kExitPermissionDenied = 4;  // The daemon refused the caller.
inline constexpr int kExitInvalidArgument = 5;   // The daemon refused the request's content.
inline constexpr int kExitNotFound = 6;          // What the request names does not exist.

// The exit code for a call that ended with `status`.
int ExitCodeFor(const absl::Status& status);

inline constexpr char kExitCodeHelp[] =
    "Exit codes: 0 ok, 1 failed, 2 usage, 3 daemon unavailable, 4 permission denied,\n"
    "            5 invalid argument, 6 not found.\n";

}  // namespace secureos::cli

#endif  // SECUREOS_CLI_EXIT_CODES_H_
