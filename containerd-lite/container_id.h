// Container ids: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 characters (runc's rule), so that an id
// is safe as a file name under the state directory and inside sandboxd's workload names.
#ifndef SECUREOS_CONTAINERD_LITE_CONTAINER_ID_H_
#define SECUREOS_CONTAINERD_LITE_CONTAINER_ID_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace secureos::ctr {

inline constexpr size_t kMaxContainerIdLength = 64;

// OK, or INVALID_ARGUMENT "<field>: ..." saying what is wrong with `id`.
absl::Status CheckContainerId(absl::string_view id, absl::string_view field = "id");

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_CONTAINER_ID_H_
