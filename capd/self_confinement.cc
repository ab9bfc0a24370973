#include "capd/self_confinement.h"

#include <sys/prctl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "capd/proc_status.h"
#include "common/status.h"

namespace secureos::capd {

CapSet CapdOwnNeeds() {
  return *CapSet::Parse(
      "cap_setpcap,cap_setuid,cap_setgid,cap_kill,cap_chown,cap_fowner,cap_dac_override,"
      "cap_sys_resource,cap_sys_admin");  // sys_admin: SpawnRequest.mounts (spawner.h).
}

absl::Status ConfineBoundingSet(const CapSet& keep) {
  for (int cap = 0; cap <= LastCap(); ++cap) {
    if (keep.Has(cap) || ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("drop capability ", cap, " from capd's bounding set"));
    }
  }
  SECUREOS_ASSIGN_OR_RETURN(ProcStatus self, ReadProcStatus(::getpid()));
  if (!self.bounding.IsSubsetOf(keep)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "bounding set still holds ", self.bounding.Minus(keep).ToString()));
  }
  return absl::OkStatus();
}

}  // namespace secureos::capd
