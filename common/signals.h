// Signals by name, as operators write them in definitions and on the command line.
#ifndef SECUREOS_COMMON_SIGNALS_H_
#define SECUREOS_COMMON_SIGNALS_H_

#include <optional>
#include <string>

namespace secureos {

// A signal name ("SIGTERM", "TERM", case-insensitive) or number 1-64; nullopt otherwise.
std::optional<int> ParseSignal(const std::string& text);

}  // namespace secureos

#endif  // SECUREOS_COMMON_SIGNALS_H_
