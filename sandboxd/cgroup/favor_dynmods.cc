#include "sandboxd/cgroup/favor_dynmods.h"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fd.h"
#include "common/status.h"

namespace secureos::sandboxd {
namespace {

// The super options of the mount at `mount_point` in /proc/self/mountinfo (after " - ").
absl::StatusOr<std::string> SuperOptions(const std::string& mount_point) {
  SECUREOS_ASSIGN_OR_RETURN(std::string info, ReadFile("/proc/self/mountinfo"));
  for (absl::string_view line : absl::StrSplit(info, '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    if (f.size() < 5 || f[4] != mount_point) continue;
    const size_t dash = line.find(" - ");
    if (dash == absl::string_view::npos) continue;
    std::vector<absl::string_view> tail = absl::StrSplit(line.substr(dash + 3), ' ');
    return tail.size() >= 3 ? std::string(tail[2]) : "";
  }
  return absl::NotFoundError(absl::StrCat(mount_point, " is not a mount point"));
}

// A remount must repeat the per-mount flags, or it clears them.
unsigned long MountFlags(const std::string& mount_point) {
  struct statvfs s;
  if (::statvfs(mount_point.c_str(), &s) != 0) return 0;
  unsigned long f = 0;
  if (s.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) f |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

}  // namespace

absl::StatusOr<std::string> FavorDynamicModifications(const CgroupLayout& layout) {
  const CgroupHierarchy* v2 = nullptr;
  for (const CgroupHierarchy& h : layout.hierarchies()) {
    if (h.version == 2) v2 = &h;
  }
  if (v2 == nullptr) return absl::FailedPreconditionError("no cgroup2 mount on this host");
  SECUREOS_ASSIGN_OR_RETURN(std::string options, SuperOptions(v2->mount_point));
  for (absl::string_view o : absl::StrSplit(options, ',')) {
    if (o == "favordynmods") return std::string("already set");
  }
  if (::mount(nullptr, v2->mount_point.c_str(), nullptr, MS_REMOUNT | MountFlags(v2->mount_point),
              "favordynmods") != 0) {
    return ErrnoToStatus(errno, absl::StrCat("remount ", v2->mount_point, " favordynmods"));
  }
  return absl::StrCat("set on ", v2->mount_point);
}

}  // namespace secureos::sandboxd
