// The types and options of config.json's mounts, checked against what sandboxd can mount.
//
// Types: bind (type "bind", or "none"/"" with a bind/rbind option), tmpfs (a tmpfs on /dev
// is sandboxd's minimal /dev), proc, sysfs, cgroup/cgroup2, devpts, mqueue; others are
// refused. Options: nosuid, nodev, private, rprivate and relatime always hold; atime
// options and noexec on tmpfs and binds are noted as not applied; suid, dev, propagation
// other than private and unknown options are refused; ro/rw must suit the type.
#ifndef SECUREOS_CONTAINERD_LITE_OCI_MOUNT_OPTIONS_H_
#define SECUREOS_CONTAINERD_LITE_OCI_MOUNT_OPTIONS_H_

#include <optional>
#include <string>

#include "containerd-lite/oci_report.h"
#include "proto/oci_spec.pb.h"

namespace secureos::ctr {

enum class MountType { kBind, kTmpfs, kDev, kProc, kSysfs, kCgroup, kDevpts, kMqueue };

// "bind", "tmpfs on /dev", "cgroup", ...: the type as messages name it.
const char* MountTypeName(MountType type);

// The options of one mount, once checked.
struct MountOptions {
  bool ro = false;
  bool rw = false;
  std::string size;  // tmpfs: size= (a number with an optional k, m or g suffix).
  std::string mode;  // tmpfs: mode= (3 or 4 octal digits).
};

// The type of the mount `m` whose normalized destination is `dest`; nullopt after an error
// on "<field>.type". `field` names the mount ("mounts[3]").
std::optional<MountType> ClassifyMount(const oci::v1::Mount& m, const std::string& dest,
                                       const std::string& field, OciReport* report);

// Checks every option of `m`, of type `type`, into `out`: errors on
// "<field>.options[i]" (or "<field>.options" for ro/rw that do not suit the type), notes
// for options not applied. False when anything is refused.
bool CheckMountOptions(const oci::v1::Mount& m, MountType type, const std::string& field,
                       MountOptions* out, OciReport* report);

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_MOUNT_OPTIONS_H_
