// `secctl sandbox ...`: sandboxd's commands beyond status/reload/events.
#ifndef SECUREOS_CLI_SANDBOX_COMMANDS_H_
#define SECUREOS_CLI_SANDBOX_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace secureos::cli {

struct SandboxOptions {
  int level = 0;              // 0: the default workload (see sandboxd/level_presets.h).
  std::string profile;        // seccomp profile file: SeccompProfile text/JSON or Docker JSON.
  std::string net;            // none | loopback | host.
  std::string memory;         // "64M".
  std::string cpus;           // "0.5".
  int pids = 0;
  std::string wall_timeout;   // "10s": the workload's wall-clock limit.
  std::vector<std::string> ro, rw, tmpfs;
  std::string learn;          // Write the learned profile here.
  std::string name;
  std::string caps;           // Capabilities kept inside the user namespace (capd authorizes).
};

// Returns true when `command` is one of run, list, inspect, kill and sets *exit_code.
bool RunSandboxCommand(const Options& options, const SandboxOptions& sandbox,
                       const std::string& command, const std::vector<std::string>& args,
                       std::ostream& out, std::ostream& err, int* exit_code);

extern const char kSandboxUsage[];

}  // namespace secureos::cli

#endif  // SECUREOS_CLI_SANDBOX_COMMANDS_H_
