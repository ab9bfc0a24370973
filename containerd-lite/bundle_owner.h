// Whose bundle it is. containerd-lite reads a bundle, and sandboxd binds its rootfs, as root:
// whoever can change the bundle between the check and the start (swap a directory for a
// symlink) can point a bind at another host path (oci_bundle.h, security notes). So the
// bundle directory and its rootfs must belong to the requester or to root, and neither may be
// writable by group or others. And the container's host ids, which are nobody's on the host,
// must be able to reach the rootfs: every directory from / to it searchable by others.
#ifndef SECUREOS_CONTAINERD_LITE_BUNDLE_OWNER_H_
#define SECUREOS_CONTAINERD_LITE_BUNDLE_OWNER_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "containerd-lite/oci_bundle.h"

namespace secureos::ctr {

// OK, or PERMISSION_DENIED naming the path, its owner or mode, and the requester (or the
// directory the container could not pass).
absl::Status CheckBundleOwner(const Bundle& bundle, uid_t requester);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_BUNDLE_OWNER_H_
