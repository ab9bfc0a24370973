// The operator's action when the audit log cannot be written (audit.on_failure_exec): a
// command run once at the start of every failure episode, besides the AUDIT_FAILURE alert,
// to free space, page someone or stop what must not run unaudited (auditd's
// disk_full_action=exec).
//
// Security: the command runs as monitord (root), with a fixed environment (PATH of the
// system directories, SECUREOS_AUDIT_ERROR with the error text), stdin and stdout on
// /dev/null, stderr monitord's own (the journal), no other descriptor (monitord opens all
// of its own O_CLOEXEC). Its program must be an absolute path; it is not waited for (a
// thread reaps it and logs how it ended), so a hanging command never holds monitord up.
#ifndef SECUREOS_MONITORD_FAILURE_COMMAND_H_
#define SECUREOS_MONITORD_FAILURE_COMMAND_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace secureos::monitord {

// INVALID_ARGUMENT when `argv` is not empty and its program (argv[0]) is not an absolute
// path; the message is for the field argv[0]. An empty argv is no command.
absl::Status ValidateFailureCommand(const std::vector<std::string>& argv);

// Starts `argv` with SECUREOS_AUDIT_ERROR=`error`; its pid. Reaped on a detached thread.
absl::StatusOr<pid_t> RunFailureCommand(const std::vector<std::string>& argv, absl::string_view error);

}  // namespace secureos::monitord

#endif  // SECUREOS_MONITORD_FAILURE_COMMAND_H_
