// A sandboxd workload's end (its Exited record) as a RunOutcome, for the daemons that run
// workloads through sandboxd (svcd at levels 3-5, containerd-lite).
#ifndef SECUREOS_COMMON_SANDBOXD_OUTCOME_H_
#define SECUREOS_COMMON_SANDBOXD_OUTCOME_H_

#include "common/run_followers.h"
#include "proto/sandboxd.pb.h"

namespace secureos {

// known when sandboxd gave a reason and a code or signal; reason is the ExitReason name in
// lower case without its prefix ("exited", "oom", "killed", ...), or "unknown".
RunOutcome SandboxdOutcome(const sandboxd::v1::Exited& exited);

}  // namespace secureos

#endif  // SECUREOS_COMMON_SANDBOXD_OUTCOME_H_
