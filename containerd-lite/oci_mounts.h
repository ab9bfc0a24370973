// config.json's mounts, stacked on the container's view (rootfs_view.h) as sandboxd
// filesystem entries.
//
// bind -> RO_BIND/RW_BIND of the host source (relative: to the bundle directory; devices
// refused); tmpfs -> TMPFS (size=, mode= kept); a tmpfs on /dev -> sandboxd's minimal /dev;
// proc -> a private /proc (needs a pid namespace); sysfs, cgroup -> read-only binds of the
// host's /sys, /sys/fs/cgroup (nothing added where that is already what the view shows);
// devpts -> nothing, as part of that /dev (elsewhere refused); mqueue -> nothing, noted.
// A destination that is missing where sandboxd cannot make the mount point is refused.
#ifndef SECUREOS_CONTAINERD_LITE_OCI_MOUNTS_H_
#define SECUREOS_CONTAINERD_LITE_OCI_MOUNTS_H_

#include <string>

#include "containerd-lite/oci_report.h"
#include "containerd-lite/rootfs_view.h"
#include "google/protobuf/repeated_field.h"
#include "proto/oci_spec.pb.h"
#include "proto/sandboxd.pb.h"

namespace secureos::ctr {

// Translates `mounts` in order: appends their entries to `fs`, stacks them on `view`, and
// adds errors and notes naming "mounts[i]..." to `report`. `bundle_dir` is the canonical
// bundle directory; `pid_namespace` whether the container gets its own.
void TranslateMounts(const google::protobuf::RepeatedPtrField<oci::v1::Mount>& mounts,
                     const std::string& bundle_dir, bool pid_namespace, RootfsView* view,
                     sandboxd::v1::Filesystem* fs, OciReport* report);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_MOUNTS_H_
