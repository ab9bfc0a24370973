#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/fd.h"
#include "common/status.h"

namespace secureos {

absl::Status WriteFileAtomically(const std::string& path, absl::string_view content, mode_t mode,
                                 Durability durability) {
  const bool sync = durability == Durability::kPowerLoss;
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  const std::string tmp =
      absl::StrFormat("%s.%016x.tmp", path, absl::Uniform<uint64_t>(absl::BitGen()));
  {
    SECUREOS_ASSIGN_OR_RETURN(UniqueFd fd,
                              OpenFile(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode));
    absl::Status s = WriteAll(fd.get(), content);
    if (s.ok() && ::fchmod(fd.get(), mode) != 0) s = ErrnoToStatus(errno, "fchmod " + tmp);
    if (s.ok() && sync && ::fsync(fd.get()) != 0) s = ErrnoToStatus(errno, "fsync " + tmp);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return Annotate(s, path);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = ErrnoToStatus(errno, absl::StrCat("rename to ", path));
    ::unlink(tmp.c_str());
    return s;
  }
  if (!sync) return absl::OkStatus();
  SECUREOS_ASSIGN_OR_RETURN(UniqueFd d, OpenFile(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(d.get()) != 0) return ErrnoToStatus(errno, "fsync " + dir);
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& dir, mode_t mode) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string part = dir.substr(0, i);
    const mode_t m = i == dir.size() ? mode : 0755;
    if (::mkdir(part.c_str(), m) == 0) {
      if (::chmod(part.c_str(), m) != 0) return ErrnoToStatus(errno, "chmod " + part);
    } else if (errno != EEXIST) {
      return ErrnoToStatus(errno, "mkdir " + part);
    }
  }
  return absl::OkStatus();
}

}  // namespace secureos
