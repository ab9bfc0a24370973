// secctl's help for one command: `secctl cap grant --help` (or `secctl help cap grant`)
// prints that command's lines of the full usage and an example, instead of everything.
#ifndef SECUREOS_CLI_COMMAND_HELP_H_
#define SECUREOS_CLI_COMMAND_HELP_H_

#include <optional>
#include <string>
#include <vector>

namespace secureos::cli {

// The help for the longest leading part of `words` ("cap", "grant") that names a command or
// a command group in `full_help` (secctl's whole usage text), with that command's example;
// nullopt when `words` names none (then the whole usage is the help).
std::optional<std::string> CommandHelp(const std::string& full_help, const std::vector<std::string>& words);

// Every command secctl has ("status", "cap grant", "monitor rules test", ...), for tests.
std::vector<std::string> AllCommands();

}  // namespace secureos::cli

#endif  // SECUREOS_CLI_COMMAND_HELP_H_
