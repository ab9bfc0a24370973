// A move-only owner of a file descriptor, and EINTR-safe I/O on it.
//
// Contract: a UniqueFd closes what it owns exactly once, in its destructor or Reset().
// close(2) is never retried on EINTR: on Linux the descriptor is released even when close
// reports EINTR, and retrying could close a descriptor another thread just opened.
// Every descriptor this project opens is O_CLOEXEC (or SOCK_CLOEXEC / F_DUPFD_CLOEXEC).
#ifndef SECUREOS_COMMON_FD_H_
#define SECUREOS_COMMON_FD_H_

#include <cerrno>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace secureos {

// Calls `fn` until it does not fail with EINTR; returns its last result.
template <typename Fn>
auto RetryOnEintr(Fn fn) -> decltype(fn()) {
  decltype(fn()) result;
  do {
    result = fn();
  } while (result == -1 && errno == EINTR);
  return result;
}

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd` (-1 for none).
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing; returns the descriptor.
  int Release();
  // Closes the owned descriptor (if any) and takes `fd`.
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC added; errors name the path.
absl::StatusOr<UniqueFd> OpenFile(const std::string& path, int flags, int mode = 0);

// Writes all of `data`, retrying short writes and EINTR.
absl::Status WriteAll(int fd, absl::string_view data);

// Reads until end of file (at most `limit` bytes; more is RESOURCE_EXHAUSTED).
absl::StatusOr<std::string> ReadAll(int fd, size_t limit = 16 << 20);

// Reads a whole file by path.
absl::StatusOr<std::string> ReadFile(const std::string& path, size_t limit = 16 << 20);

// Reads the whole file `name` of the directory open as `dir` (several files of one
// /proc/<pid> then belong to the same process, even if the pid is reused meanwhile).
absl::StatusOr<std::string> ReadFileAt(int dir, const std::string& name, size_t limit = 16 << 20);

}  // namespace secureos

#endif  // SECUREOS_COMMON_FD_H_
