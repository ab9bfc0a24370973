// linux.seccomp, as a SandboxSpec's seccomp profile.
//
// The profile is handed to sandboxd as OCI JSON (SeccompProfile.oci_json), after importing
// it once here with sandboxd's own importer so that its errors name linux.seccomp fields
// now rather than at start. flags: TSYNC and LOG hold, SPEC_ALLOW is noted as not applied,
// others are refused; architectures other than SCMP_ARCH_X86_64 are noted (sandboxd kills
// their syscalls). No profile: sandboxd's "default" applies, noted (OCI would run
// unconfined).
#ifndef SECUREOS_CONTAINERD_LITE_OCI_SECCOMP_H_
#define SECUREOS_CONTAINERD_LITE_OCI_SECCOMP_H_

#include <optional>

#include "containerd-lite/oci_report.h"
#include "proto/oci_spec.pb.h"
#include "proto/sandboxd.pb.h"

namespace secureos::ctr {

// `seccomp` (null: the bundle has none) -> the profile for SandboxSpec.seccomp; nullopt
// when there is none or it is refused (errors in `report`).
std::optional<sandboxd::v1::SeccompProfile> TranslateSeccomp(const oci::v1::Seccomp* seccomp,
                                                             OciReport* report);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_SECCOMP_H_
