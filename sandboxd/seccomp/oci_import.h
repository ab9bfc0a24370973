// Importing a Docker / OCI runtime-spec seccomp profile (JSON) as a v1::SeccompProfile.
//
// The JSON is read with protobuf's JSON parser into oci_profile.proto, a mirror of the
// Docker schema (defaultAction, defaultErrnoRet, architectures, archMap, syscalls[{names,
// name, action, errnoRet, args[{index, value, valueTwo, op}], comment, includes,
// excludes}], flags, listenerPath, listenerMetadata); unknown keys are errors.
//
// Mapping, as close to runc as sandboxd's model allows:
//   SCMP_ACT_ALLOW -> ALLOW; SCMP_ACT_ERRNO -> ERRNO (errnoRet, default EPERM);
//   SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP -> KILL_PROCESS
//   (sandboxd kills whole workloads); SCMP_ACT_TRACE -> ERRNO ENOSYS (what the kernel answers
//   when no tracer is attached); SCMP_ACT_LOG -> LOG; SCMP_ACT_NOTIFY is refused.
//   Names libseccomp does not know on x86_64 are skipped, as runc does; an entry left with no
//   name is dropped. An entry whose args name the same index twice becomes one rule per
//   comparison (runc's "any of them" behaviour); otherwise all comparisons must hold.
//   includes/excludes: arches are honoured for "amd64"; minKernel against `kernel_release`;
//   caps are evaluated as if the workload held no capability (an entry that needs one is
//   dropped, an entry excluded by one applies). architectures, archMap, flags and listener
//   settings are ignored: sandboxd filters the native architecture only and kills any other.
//
// Precedence differs from libseccomp in one respect: in sandboxd a later matching rule wins.
// Docker's own profiles never have two overlapping entries with different actions.
#ifndef SECUREOS_SANDBOXD_SECCOMP_OCI_IMPORT_H_
#define SECUREOS_SANDBOXD_SECCOMP_OCI_IMPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/sandboxd.pb.h"

namespace secureos::sandboxd {

// Converts `json`. Errors are INVALID_ARGUMENT naming each path inside the JSON after
// `field` ("seccomp.oci_json: syscalls[2].action: unknown action \"SCMP_ACT_FOO\"").
// `kernel_release` is uname's release ("6.1.0-18-amd64"), compared with
// includes.minKernel.
absl::StatusOr<v1::SeccompProfile> ImportOciProfile(absl::string_view json,
                                                    absl::string_view kernel_release,
                                                    absl::string_view field = "");

// uname(2)'s release of the running kernel ("" if uname fails).
std::string RunningKernelRelease();

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_SECCOMP_OCI_IMPORT_H_
