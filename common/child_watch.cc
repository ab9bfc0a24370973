#include "common/child_watch.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/log.h"
#include "common/status.h"

namespace secureos {

absl::StatusOr<WatchSet> OpenWatchSet() {
  WatchSet set;
  set.epoll.Reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!set.epoll.valid()) return ErrnoToStatus(errno, "epoll_create1");
  set.wake.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!set.wake.valid()) return ErrnoToStatus(errno, "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  if (::epoll_ctl(set.epoll.get(), EPOLL_CTL_ADD, set.wake.get(), &ev) != 0) {
    return ErrnoToStatus(errno, "epoll_ctl");
  }
  return set;
}

void Wake(int wake) {
  const uint64_t one = 1;
  (void)!::write(wake, &one, sizeof(one));  // Full counter: already awake.
}

void WatchChild(int epoll, uint64_t key, int pidfd, const UniqueFd out[3], absl::string_view id) {
  auto add = [&](int fd, int which) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = WatchKey(key, which);
    if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) != 0) {
      Log(LogLevel::kError, "epoll_ctl failed", {{"id", std::string(id)}, {"errno", strerror(errno)}});
    }
  };
  add(pidfd, 0);
  for (int which : {1, 2}) {
    if (out[which].valid()) add(out[which].get(), which);
  }
}

void DrainChildOutput(int epoll, UniqueFd* fd, size_t* captured, size_t cap,
                      const std::function<void(const char* data, size_t size)>& append) {
  char buf[65536];
  while (fd->valid()) {
    const ssize_t n = ::read(fd->get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      ::epoll_ctl(epoll, EPOLL_CTL_DEL, fd->get(), nullptr);
      fd->Reset();
      return;
    }
    if (*captured + static_cast<size_t>(n) > cap) continue;
    *captured += static_cast<size_t>(n);
    append(buf, static_cast<size_t>(n));
  }
}

}  // namespace secureos
