// `secctl svc ...`: svcd's commands beyond status/reload/events.
#ifndef SECUREOS_CLI_SVC_COMMANDS_H_
#define SECUREOS_CLI_SVC_COMMANDS_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/human_format.h"
#include "proto/svcd.pb.h"

namespace secureos::cli {

struct SvcOptions {
  bool follow = false;         // logs: --follow / -f, keep streaming.
  std::string tail;            // logs: --tail BYTES ("" or "0": svcd's default, 8192).
  bool timeout_given = false;  // --timeout was on the command line.
};

// How long add, start, stop and restart wait for svcd when --timeout is not given: svcd
// answers them only once the service runs or has ended (ready timeout 30 s, stop timeout
// 10 s by default, plus what the service requires).
inline constexpr absl::Duration kSvcWaitTimeout = absl::Minutes(2);

// Returns true when `command` is one of add, update, remove, start, stop, restart,
// reset-failed, status (with a NAME; without one it is the generic daemon status), list,
// explain, logs, and sets *exit_code. `logs` writes the log's bytes to file descriptor 1
// (not through `out`) as they arrive, unless --json.
bool RunSvcCommand(const Options& options, const SvcOptions& svc, const std::string& command,
                   const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                   int* exit_code);

// Help lines for the svc group.
extern const char kSvcUsage[];

// Pure formatting and parsing behind the commands, exposed for svc_commands_test.

// "running", "failed", ... (lowercase, without SERVICE_STATE_); "unknown(N)" otherwise.
std::string StateName(svcd::v1::ServiceState state);

// How a run ended in one line: "code 1 (exited): exited with code 1",
// "signal SIGKILL (oom): killed by the OOM killer ...", "-" when nothing is known.
std::string ExitText(const svcd::v1::ExitInfo& exit);

// The short form for tables: "code 1", "SIGKILL (oom)", "stopped", "-".
std::string ExitShort(const svcd::v1::ExitInfo& exit);

// --tail: bytes, optionally with a 1024-based suffix K, M or G ("64K"). "" is 0.
absl::StatusOr<uint64_t> ParseTailBytes(const std::string& text);

// The systemctl-status-like block of one service.
void PrintServiceStatus(const svcd::v1::ServiceStatus& status, std::ostream& out);

// The human form of `secctl svc explain`.
void PrintExplain(const svcd::v1::ExplainResponse& explain, std::ostream& out);

}  // namespace secureos::cli

#endif  // SECUREOS_CLI_SVC_COMMANDS_H_
