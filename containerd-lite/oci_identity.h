// The container's identity: process.user inside the user namespace, and the id ranges
// (from containerd-lite's pool, not the bundle) that map it to host ids.
#ifndef SECUREOS_CONTAINERD_LITE_OCI_IDENTITY_H_
#define SECUREOS_CONTAINERD_LITE_OCI_IDENTITY_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "containerd-lite/oci_report.h"
#include "proto/containerd_lite.pb.h"
#include "proto/oci_spec.pb.h"
#include "proto/sandboxd.pb.h"

namespace secureos::ctr {

// An id range argument: INVALID_ARGUMENT "<name>: size must be at least 1" or
// "<name>: the range passes 2^32" (on either side).
absl::Status CheckIdMapping(const containerd_lite::v1::IdMapping& m, absl::string_view name);

// `uid_map` and `gid_map` (checked with CheckIdMapping) -> spec->uid_map, gid_map; `user`'s
// uid and gid -> spec->uid, gid, each an error unless its range maps it. additionalGids
// and umask are refused (sandboxd clears supplementary groups and sets no umask).
void TranslateIdentity(const oci::v1::User& user, const containerd_lite::v1::IdMapping& uid_map,
                       const containerd_lite::v1::IdMapping& gid_map,
                       sandboxd::v1::SandboxSpec* spec, OciReport* report);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_IDENTITY_H_
