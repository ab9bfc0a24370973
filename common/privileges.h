// Giving up capabilities a daemon must not hold.
//
// Only capd holds CAP_SETPCAP (DESIGN.md). Every other daemon removes it from all five sets
// at start-up, before any thread exists (capabilities are per thread), and refuses to run
// when it cannot.
#ifndef SECUREOS_COMMON_PRIVILEGES_H_
#define SECUREOS_COMMON_PRIVILEGES_H_

#include "absl/status/status.h"

namespace secureos {

// Removes `cap` from the bounding, ambient, inheritable, permitted and effective sets of the
// calling thread, then checks /proc/self/status: FAILED_PRECONDITION if any set still has it.
// Call it from main() before starting threads.
absl::Status DropCapabilityEverywhere(int cap);

}  // namespace secureos

#endif  // SECUREOS_COMMON_PRIVILEGES_H_
