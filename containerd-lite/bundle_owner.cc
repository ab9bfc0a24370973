#include "containerd-lite/bundle_owner.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"

namespace secureos::ctr {
namespace {

absl::Status CheckOne(const char* what, const std::string& path, uid_t requester) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return ErrnoToStatus(errno, absl::StrCat(what, ": stat ", path));
  if (st.st_uid != requester && st.st_uid != 0) {
    return absl::PermissionDeniedError(absl::StrCat(what, ": ", path, " belongs to uid ", st.st_uid,
                                                    ", not to the requester (uid ", requester, ") or root"));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "%s: %s is writable by %s (mode %04o): others could change it before it runs", what, path,
        (st.st_mode & S_IWOTH) ? "others" : "its group", st.st_mode & 07777));
  }
  return absl::OkStatus();
}

// Every directory from / down to `path` (canonical) searchable by others.
absl::Status CheckReachable(const std::string& path) {
  for (size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
    const std::string dir = end == std::string::npos ? path : path.substr(0, end);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) return ErrnoToStatus(errno, "config.json: root.path: stat " + dir);
    if ((st.st_mode & S_IXOTH) == 0) {
      return absl::PermissionDeniedError(absl::StrFormat(
          "config.json: root.path: the container's host ids cannot reach %s: %s has mode %04o "
          "(it needs o+x)", path, dir, st.st_mode & 07777));
    }
    if (end == std::string::npos) return absl::OkStatus();
  }
}

}  // namespace

absl::Status CheckBundleOwner(const Bundle& bundle, uid_t requester) {
  SECUREOS_RETURN_IF_ERROR(CheckOne("bundle", bundle.dir, requester));
  SECUREOS_RETURN_IF_ERROR(CheckOne("config.json: root.path", bundle.rootfs, requester));
  return CheckReachable(bundle.rootfs);
}

}  // namespace secureos::ctr
