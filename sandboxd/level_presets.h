// The sandbox side of security levels 3-5 (DESIGN.md "Security levels"), and the
// workload `secctl sandbox run` gets with no options. Named, idempotent presets: applying
// one sets the namespaces, filesystem, network and seccomp base of a spec and leaves argv,
// env, limits and extra mounts to the caller.
//
//   default  every namespace (mount, pid, net, uts, ipc, user, cgroup); the host's /
//            read-only, a private /tmp, its own /proc, a minimal /dev; uid 65534 inside
//            (mapped to sandboxd's workload uid); no network; seccomp "default".
//   3        mount, pid, ipc, uts namespaces; host / read-only, private /tmp, /proc, /dev;
//            the host's network; runs as sandboxd's workload uid; seccomp "default".
//   4        3 + user and network namespaces (loopback only); seccomp "strict".
//   5        4 + an empty tmpfs root holding only the system directories read-only
//            (/usr, /lib*, /bin, /sbin, /etc) and the caller's declared paths; no /tmp unless
//            declared; seccomp "strict"; no capabilities (none may be requested).
#ifndef SECUREOS_SANDBOXD_LEVEL_PRESETS_H_
#define SECUREOS_SANDBOXD_LEVEL_PRESETS_H_

#include "absl/status/status.h"
#include "proto/sandboxd.pb.h"

namespace secureos::sandboxd {

// The no-options workload.
void ApplyDefaultPreset(v1::SandboxSpec* spec);

// Levels 3, 4 and 5; any other level is INVALID_ARGUMENT naming "level" (1 and 2 are host
// processes: capd's, not sandboxd's). Sets spec->level, the claim VerifyLevel checks.
absl::Status ApplyLevelPreset(int level, v1::SandboxSpec* spec);

// Checks a spec (with sandboxd's defaults filled in) against the level it claims: what the
// preset sets may be tightened by the caller, never loosened. Level 4 asks for a seccomp
// profile that is not "default" or "unconfined" and whose default action refuses (the
// "strict" base, or an allowlist such as a learned one). OK when no level is claimed.
absl::Status VerifyLevel(const v1::SandboxSpec& spec);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_LEVEL_PRESETS_H_
