// `secctl monitor ...`: monitord's commands beyond status/reload/events. `rules test` and
// `audit verify` work on files and need no running monitord.
#ifndef SECUREOS_CLI_MONITOR_COMMANDS_H_
#define SECUREOS_CLI_MONITOR_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/commands.h"

namespace secureos::cli {

struct MonitorOptions {
  std::string min_severity;  // watch, violations: --min_severity info|notice|warning|critical.
  std::string principal;     // violations: --principal.
  std::string rule;          // violations: --rule.
  std::string since;         // violations: --since 1h | 2026-12-04T12:00:00Z.
  std::string until;         // violations: --until, as --since.
  std::string dir;           // audit verify: --dir.
};

// Returns true when `command` is one of watch, violations, stats, rules (test|reload), audit
// (verify), and sets *exit_code.
bool RunMonitorCommand(const Options& options, const MonitorOptions& monitor, const std::string& command,
                       const std::vector<std::string>& args, std::ostream& out, std::ostream& err, int* exit_code);

extern const char kMonitorUsage[];

// A --since / --until value: a non-negative duration before `now` ("1h") or an RFC 3339 time;
// INVALID_ARGUMENT naming `flag` otherwise.
absl::StatusOr<absl::Time> ParseTimeArg(absl::string_view flag, const std::string& text, absl::Time now);

}  // namespace secureos::cli

#endif  // SECUREOS_CLI_MONITOR_COMMANDS_H_
