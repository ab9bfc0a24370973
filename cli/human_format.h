// Numbers as operators read them in secctl's tables: sizes, durations, signals.
#ifndef SECUREOS_CLI_HUMAN_FORMAT_H_
#define SECUREOS_CLI_HUMAN_FORMAT_H_

#include <cstdint>
#include <string>

namespace secureos::cli {

// 1024-based with one decimal: "512 B", "1.5 KiB", "64.0 MiB", "2.0 GiB".
std::string HumanBytes(uint64_t bytes);

// Whole seconds as "0s", "59s", "1m5s", "2h0m7s", "3d4h5m6s".
std::string HumanDuration(double seconds);

// "SIGKILL" (sigabbrev_np), "signal 77" when the number has no name.
std::string SignalName(int signal);

}  // namespace secureos::cli

#endif  // SECUREOS_CLI_HUMAN_FORMAT_H_
