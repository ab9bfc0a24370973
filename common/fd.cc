#include "common/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace secureos {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) Reset(other.Release());
  return *this;
}

int UniqueFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);  // Not retried on EINTR: see the header.
  fd_ = fd;
}

absl::StatusOr<UniqueFd> OpenFile(const std::string& path, int flags, int mode) {
  int fd = RetryOnEintr([&] { return ::open(path.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  return UniqueFd(fd);
}

absl::Status WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = RetryOnEintr([&] { return ::write(fd, data.data(), data.size()); });
    if (n < 0) return ErrnoToStatus(errno, "write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadAll(int fd, size_t limit) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = RetryOnEintr([&] { return ::read(fd, buf, sizeof(buf)); });
    if (n < 0) return ErrnoToStatus(errno, "read");
    if (n == 0) return out;
    if (out.size() + static_cast<size_t>(n) > limit) {
      return absl::ResourceExhaustedError(absl::StrCat("more than ", limit, " bytes"));
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

absl::StatusOr<std::string> ReadFileAt(int dir, const std::string& name, size_t limit) {
  UniqueFd fd(RetryOnEintr([&] { return ::openat(dir, name.c_str(), O_RDONLY | O_CLOEXEC); }));
  if (!fd.valid()) return ErrnoToStatus(errno, absl::StrCat("open ", name));
  absl::StatusOr<std::string> data = ReadAll(fd.get(), limit);
  if (!data.ok()) return Annotate(data.status(), name);
  return data;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, size_t limit) {
  SECUREOS_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  absl::StatusOr<std::string> data = ReadAll(fd.get(), limit);
  if (!data.ok()) return Annotate(data.status(), path);
  return data;
}

}  // namespace secureos
