// Checks and preparations shared by every daemon that starts a process (capd's Spawn,
// sandboxd's workloads): argv and environment, typed rlimits, and stdio.
//
// Each Check* adds "field: message" errors to a FieldErrors and never stops at the first,
// so a request is refused once with everything wrong in it.
#ifndef SECUREOS_COMMON_PROCESS_SPEC_H_
#define SECUREOS_COMMON_PROCESS_SPEC_H_

#include <sys/resource.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/fd.h"
#include "common/field_errors.h"
#include "google/protobuf/repeated_field.h"
#include "proto/common.pb.h"

namespace secureos {

// argv: at least one entry, argv[0] absolute, no NUL bytes; env: KEY=value, no NUL.
void CheckArgvEnv(const google::protobuf::RepeatedPtrField<std::string>& argv,
                  const google::protobuf::RepeatedPtrField<std::string>& env, FieldErrors* errors);

// One typed rlimit as (RLIMIT_*, limits); nullopt (with errors added under `field`) when
// it is not valid. RLIM_INFINITY only through `infinity: true`.
std::optional<std::pair<int, rlimit>> CheckRlimit(const common::v1::Rlimit& r,
                                                  const std::string& field, FieldErrors* errors);

// stdin, stdout and stderr of a child, opened O_CLOEXEC by the parent for the child to dup2.
struct Stdio {
  UniqueFd in;   // /dev/null.
  UniqueFd out;
  UniqueFd err;
  // Streaming only: the non-blocking read ends the parent keeps.
  UniqueFd out_read;
  UniqueFd err_read;
};

// /dev/null for all three.
absl::Status OpenNullStdio(Stdio* stdio);
// /dev/null stdin; stdout and stderr are pipes whose read ends the parent keeps.
absl::Status OpenStreamedStdio(Stdio* stdio);
// /dev/null stdin; stdout and stderr appended to the files `stdout_path` and
// `stderr_path` (absolute; equal paths share one open file, as `>f 2>&1` does). Each is
// opened O_WRONLY|O_CREAT|O_APPEND|O_NOFOLLOW|O_CLOEXEC|O_NONBLOCK, mode 0640 when created,
// then O_NONBLOCK is cleared: a FIFO without a reader fails at once (ENXIO) instead of
// blocking the caller's thread, and the child still gets a blocking fd. Only a regular file
// or a FIFO is accepted. Errors name the field and the path: "stdout_path: open /x: No such
// device or address (a FIFO that nothing has open for reading)", FAILED_PRECONDITION for
// that case, INVALID_ARGUMENT for another file type, the errno's code otherwise.
absl::Status OpenFileStdio(const std::string& stdout_path, const std::string& stderr_path,
                           Stdio* stdio);

// NULL-terminated char* views of `strings` (valid while `strings` is unchanged).
std::vector<char*> CStringArray(std::vector<std::string>& strings);

}  // namespace secureos

#endif  // SECUREOS_COMMON_PROCESS_SPEC_H_
