// linux.readonlyPaths and linux.maskedPaths, as sandboxd filesystem entries over the
// container's view (rootfs_view.h) once its mounts are in.
//
// A path absent from the view is skipped with a note (as runc does); "/" and paths that
// are not absolute or hold ".." are refused.
#ifndef SECUREOS_CONTAINERD_LITE_OCI_LINUX_PATHS_H_
#define SECUREOS_CONTAINERD_LITE_OCI_LINUX_PATHS_H_

#include <string>

#include "containerd-lite/oci_report.h"
#include "containerd-lite/rootfs_view.h"
#include "google/protobuf/repeated_field.h"
#include "proto/sandboxd.pb.h"

namespace secureos::ctr {

// linux.readonlyPaths: each -> a RO_BIND of the same host object (under a bind or the
// rootfs, that host path; under /proc, the host's /proc entry). A path already read-only
// needs nothing; one on a fresh tmpfs is refused (a tmpfs cannot be bound).
void TranslateReadonlyPaths(const google::protobuf::RepeatedPtrField<std::string>& paths,
                            const RootfsView& view, sandboxd::v1::Filesystem* fs,
                            OciReport* report);

// linux.maskedPaths: a directory -> an empty 4 KiB tmpfs of mode 0555, anything else -> an
// empty read-only FILE.
void TranslateMaskedPaths(const google::protobuf::RepeatedPtrField<std::string>& paths,
                          const RootfsView& view, sandboxd::v1::Filesystem* fs,
                          OciReport* report);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_LINUX_PATHS_H_
