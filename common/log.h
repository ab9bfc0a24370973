// Structured log lines on stderr, one line per record, written with one write(2):
//   ts=2026-12-03T16:20:47.123Z level=info daemon=capd msg="serving" socket=/run/secureos/capd.sock
// Values that contain spaces, quotes or '=' are quoted; newlines are escaped so that a
// caller-supplied string can never forge a second record.
#ifndef SECUREOS_COMMON_LOG_H_
#define SECUREOS_COMMON_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace secureos {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// One key=value pair of a record.
using LogField = std::pair<absl::string_view, std::string>;

// Sets the `daemon=` value of every record and the lowest level written. Call once in main.
void InitLogging(absl::string_view daemon, LogLevel min_level);

// Writes one record if `level` is at least the configured minimum.
void Log(LogLevel level, absl::string_view msg, std::initializer_list<LogField> fields = {});

// Formats a record without writing it (exposed for tests).
std::string FormatLogLine(LogLevel level, absl::string_view daemon, absl::string_view msg,
                          std::initializer_list<LogField> fields);

// Parses "debug", "info", "warning", "error".
bool ParseLogLevel(absl::string_view text, LogLevel* level);

}  // namespace secureos

#endif  // SECUREOS_COMMON_LOG_H_
