// capd giving up what it will never hand out.
//
// A capability absent from capd's bounding set can never become inheritable or ambient in a
// child, so it cannot be granted whatever the grants file says. capd keeps in its bounding
// set the grantable capabilities plus those it uses itself (CapdOwnNeeds).
#ifndef SECUREOS_CAPD_SELF_CONFINEMENT_H_
#define SECUREOS_CAPD_SELF_CONFINEMENT_H_

#include "absl/status/status.h"
#include "common/cap_set.h"

namespace secureos::capd {

// setpcap (securebits, bounding drops), setuid, setgid (identity of spawns), kill (signal
// spawns of any uid), chown, fowner, dac_override (state, output files, cgroup.procs),
// sys_resource (rlimits above its own), sys_admin (the private mount namespace of a spawn
// with SpawnRequest.mounts: unshare, bind mounts, mount_setattr, tmpfs, all in the child
// before it drops to its grant; see spawner.h).
CapSet CapdOwnNeeds();

// Drops every capability outside `keep` from the calling thread's bounding set, then checks
// /proc/self/status. Call before any thread exists.
absl::Status ConfineBoundingSet(const CapSet& keep);

}  // namespace secureos::capd

#endif  // SECUREOS_CAPD_SELF_CONFINEMENT_H_
