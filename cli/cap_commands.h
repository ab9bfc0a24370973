// `secctl cap ...`: capd's commands beyond status/reload/events.
#ifndef SECUREOS_CLI_CAP_COMMANDS_H_
#define SECUREOS_CLI_CAP_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace secureos::cli {

struct CapOptions {
  std::string user;       // exec: user name or uid (default: the caller's uid).
  std::string group;      // exec: group name or gid (default: the user's primary gid).
  std::string groups;     // exec: supplementary groups, comma-separated.
  std::string caps;       // exec: capabilities to hold.
  std::string principal;  // exec: grant to use (default uid:<user>).
  std::string ttl;        // grant: lease such as "1h".
  std::string on_revoke;  // grant: report | restart | kill.
};

// Returns true when `command` is one of these (get, audit, grant, revoke, grants, exec, ps,
// kill, drift) and sets *exit_code.
bool RunCapCommand(const Options& options, const CapOptions& cap, const std::string& command,
                   const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                   int* exit_code);

// Help lines for the cap group.
extern const char kCapUsage[];

}  // namespace secureos::cli

#endif  // SECUREOS_CLI_CAP_COMMANDS_H_
