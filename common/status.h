// Status helpers shared by every daemon.
//
// Daemons use absl::Status / absl::StatusOr throughout; errno is turned into a status with
// context right where the syscall failed, and a status becomes a grpc::Status only at the
// service edge (grpc_status.h).
#ifndef SECUREOS_COMMON_STATUS_H_
#define SECUREOS_COMMON_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace secureos {

// Maps an errno value to the closest status code and a message "<context>: <strerror>".
// Example: ErrnoToStatus(ENOENT, "open /etc/x") -> NOT_FOUND "open /etc/x: No such file...".
absl::Status ErrnoToStatus(int err, absl::string_view context);

// Returns `status` with `context + ": "` put in front of its message (OK stays OK).
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace secureos

#define SECUREOS_STATUS_CONCAT_INNER_(a, b) a##b
#define SECUREOS_STATUS_CONCAT_(a, b) SECUREOS_STATUS_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` yields a non-OK absl::Status.
#define SECUREOS_RETURN_IF_ERROR(expr)                          \
  do {                                                          \
    const ::absl::Status secureos_status_ = (expr);             \
    if (!secureos_status_.ok()) return secureos_status_;        \
  } while (false)

// `SECUREOS_ASSIGN_OR_RETURN(auto x, F());` declares x from an OK StatusOr, or returns its
// status from the current function.
#define SECUREOS_ASSIGN_OR_RETURN(lhs, expr)                                       \
  SECUREOS_ASSIGN_OR_RETURN_IMPL_(SECUREOS_STATUS_CONCAT_(secureos_or_, __LINE__), \
                                  lhs, expr)
#define SECUREOS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()

#endif  // SECUREOS_COMMON_STATUS_H_
