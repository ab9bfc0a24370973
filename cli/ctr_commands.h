// `secctl ctr ...`: containerd-lite's commands beyond status/reload/events.
#ifndef SECUREOS_CLI_CTR_COMMANDS_H_
#define SECUREOS_CLI_CTR_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "proto/containerd_lite.pb.h"

namespace secureos::cli {

struct CtrOptions {
  std::string bundle;     // create, run, check: --bundle DIR (relative to the current directory).
  std::string net;        // create, run: --net none|loopback|bridge (default loopback).
  bool force = false;     // delete: --force kills a running container first.
  bool keep = false;      // run: --keep the stopped container.
  bool once = false;      // stats: --once, one sample.
  std::string pss_level;  // check: --pss_level baseline|restricted (default: the configured one).
};

// Returns true when `command` is one of create, start, state, kill, delete, list, run, exec,
// stats, check, and sets *exit_code. `run` and `exec` write the process's output to fds 1
// and 2 as it comes and exit with its code (128+signal when killed).
bool RunCtrCommand(const Options& options, const CtrOptions& ctr, const std::string& command,
                   const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                   int* exit_code);

// Help lines for the ctr group.
extern const char kCtrUsage[];

// Pure parsing and formatting behind the commands, exposed for ctr_commands_test.

// --net: "" and "loopback" -> LOOPBACK, "none" -> NONE; anything else INVALID_ARGUMENT.
absl::StatusOr<containerd_lite::v1::NetworkMode> ParseNetwork(const std::string& text);

// --pss_level: "" -> UNSPECIFIED (the configured level), "baseline", "restricted".
absl::StatusOr<containerd_lite::v1::ComplianceLevel> ParsePssLevel(const std::string& text);

// One line of `secctl ctr stats`: "web  mem 12.0 MiB / 64.0 MiB (18.8%)  cpu 0.25 / 0.50
// CPUs  pids 3 / 64  oom 0"; a part without data is "-".
std::string StatsLine(const containerd_lite::v1::ContainerStats& s);

// `secctl ctr check`'s report: one block per finding, then the verdict.
void PrintFindings(const containerd_lite::v1::CheckResponse& r, std::ostream& out);

}  // namespace secureos::cli

#endif  // SECUREOS_CLI_CTR_COMMANDS_H_
