#include "svcd/notify_hub.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/atomic_file.h"
#include "common/status.h"

namespace secureos::svcd {

NotifyMessage ParseNotifyMessage(absl::string_view text) {
  NotifyMessage m;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (line == "READY=1") m.ready = true;
    else if (line == "STOPPING=1") m.stopping = true;
    else if (line == "WATCHDOG=1") m.watchdog = true;
    else if (line == "WATCHDOG=trigger") m.watchdog_trigger = true;
    else if (absl::StartsWith(line, "STATUS=")) m.status = std::string(line.substr(7));
  }
  return m;
}

absl::StatusOr<std::unique_ptr<NotifyHub>> NotifyHub::Start(std::string dir, Handler handler) {
  SECUREOS_RETURN_IF_ERROR(MakeDirs(dir, 0755));
  SECUREOS_ASSIGN_OR_RETURN(WatchSet set, OpenWatchSet());
  auto hub = std::unique_ptr<NotifyHub>(new NotifyHub(std::move(dir), std::move(handler), std::move(set)));
  hub->thread_ = std::thread([p = hub.get()] { p->Loop(); });
  return hub;
}

NotifyHub::NotifyHub(std::string dir, Handler handler, WatchSet set)
    : dir_(std::move(dir)), handler_(std::move(handler)), set_(std::move(set)) {}

NotifyHub::~NotifyHub() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  Wake(set_.wake.get());
  thread_.join();
}

absl::StatusOr<std::string> NotifyHub::Open(const std::string& service) {
  const std::string path = absl::StrCat(dir_, "/", service, ".sock");
  absl::MutexLock lock(&mu_);
  if (keys_.count(service) != 0) return path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("notify socket path too long (", path.size(),
                                                   " bytes, at most ", sizeof(addr.sun_path) - 1, "): ", path));
  }
  path.copy(addr.sun_path, path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return ErrnoToStatus(errno, "socket");
  ::unlink(path.c_str());  // A previous svcd's.
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoToStatus(errno, "bind " + path);
  }
  const int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) != 0) {
    return ErrnoToStatus(errno, "SO_PASSCRED");
  }
  if (::chmod(path.c_str(), 0666) != 0) return ErrnoToStatus(errno, "chmod " + path);
  const uint64_t key = next_key_++;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = key;
  if (::epoll_ctl(set_.epoll.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
    return ErrnoToStatus(errno, "epoll_ctl " + path);
  }
  keys_[service] = key;
  sockets_[key] = Socket{service, std::move(fd)};
  return path;
}

void NotifyHub::Close(const std::string& service) {
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(service);
  if (it == keys_.end()) return;
  (void)::epoll_ctl(set_.epoll.get(), EPOLL_CTL_DEL, sockets_[it->second].fd.get(), nullptr);
  sockets_.erase(it->second);
  keys_.erase(it);
  ::unlink(absl::StrCat(dir_, "/", service, ".sock").c_str());
}

void NotifyHub::Loop() {
  epoll_event events[16];
  for (;;) {
    const int n = ::epoll_wait(set_.epoll.get(), events, 16, -1);
    std::vector<std::pair<int, std::string>> ready;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      for (int i = 0; i < n; ++i) {
        auto it = sockets_.find(events[i].data.u64);
        // Duplicated so a concurrent Close cannot close it under us.
        if (it != sockets_.end()) ready.emplace_back(::dup(it->second.fd.get()), it->second.service);
      }
    }
    if (n > 0) {
      uint64_t ignored;
      (void)!::read(set_.wake.get(), &ignored, sizeof(ignored));
    }
    for (auto& [fd, service] : ready) {
      if (fd < 0) continue;
      UniqueFd owned(fd);
      Receive(owned.get(), service);
    }
  }
}

void NotifyHub::Receive(int fd, const std::string& service) {
  for (;;) {
    char data[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov{data, sizeof(data)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t n = RetryOnEintr([&] { return ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC); });
    if (n < 0) return;  // EAGAIN: nothing more.
    NotifyMessage m = ParseNotifyMessage(absl::string_view(data, static_cast<size_t>(n)));
    m.service = service;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        ucred cred;
        std::memcpy(&cred, CMSG_DATA(c), sizeof(cred));
        m.pid = cred.pid;
        m.uid = cred.uid;
      } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        // fds were passed (FDSTORE is not supported): close them, never keep them.
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int passed;
          std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          ::close(passed);
        }
      }
    }
    handler_(m);
  }
}

}  // namespace secureos::svcd
