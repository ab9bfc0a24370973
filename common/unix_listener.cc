#include "common/unix_listener.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/atomic_file.h"
#include "common/log.h"
#include "common/status.h"

namespace secureos {
namespace {

absl::Status MakeParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return absl::OkStatus();
  return MakeDirs(path.substr(0, slash), 0755);
}

// Reads the pid another instance wrote into the lock file, for the error message.
std::string LockHolder(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "unknown";
  buf[n] = '\0';
  return std::string(buf, strcspn(buf, "\n"));
}

absl::StatusOr<UniqueFd> TakeLock(const std::string& lock_path) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    SECUREOS_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600));
    if (RetryOnEintr([&] { return ::flock(fd.get(), LOCK_EX | LOCK_NB); }) != 0) {
      if (errno == EWOULDBLOCK) {
        return absl::FailedPreconditionError(absl::StrCat(
            "another instance (pid ", LockHolder(fd.get()), ") is serving ",
            lock_path.substr(0, lock_path.size() - 5), "; stop it first"));
      }
      return ErrnoToStatus(errno, absl::StrCat("flock ", lock_path));
    }
    // The previous holder unlinks the file when it stops; if we locked a file that is no
    // longer at the path, someone else may lock the new one: start over.
    struct stat by_fd, by_path;
    if (::fstat(fd.get(), &by_fd) != 0) return ErrnoToStatus(errno, "fstat lock");
    if (::stat(lock_path.c_str(), &by_path) != 0 || by_fd.st_ino != by_path.st_ino ||
        by_fd.st_dev != by_path.st_dev) {
      continue;
    }
    std::string pid = absl::StrCat(::getpid(), "\n");
    if (::ftruncate(fd.get(), 0) != 0) return ErrnoToStatus(errno, "truncate lock");
    if (::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) return ErrnoToStatus(errno, "write lock");
    return fd;
  }
  return absl::AbortedError(absl::StrCat("lock file ", lock_path, " keeps being replaced"));
}

absl::Status FillAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("socket path must be absolute: ", path));
  }
  if (path.size() >= sizeof(addr->sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "socket path is ", path.size(), " bytes, the limit is ", sizeof(addr->sun_path) - 1,
        ": ", path));
  }
  std::memcpy(addr->sun_path, path.data(), path.size());
  return absl::OkStatus();
}

// Binds under a random name, fixes mode and owner, then renames into place.
absl::StatusOr<UniqueFd> BindSocket(const UnixListener::Options& o) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoToStatus(errno, "socket(AF_UNIX)");
  std::string tmp = absl::StrFormat("%s.%016x.tmp", o.path, absl::Uniform<uint64_t>(absl::BitGen()));
  sockaddr_un addr;
  SECUREOS_RETURN_IF_ERROR(FillAddress(tmp, &addr));
  // The process-wide umask is changed only for the bind itself; daemons do this at start-up.
  mode_t old_umask = ::umask(0177);
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int bind_errno = errno;
  ::umask(old_umask);
  if (rc != 0) return ErrnoToStatus(bind_errno, absl::StrCat("bind ", tmp));
  auto fail = [&](absl::string_view what) {
    absl::Status s = ErrnoToStatus(errno, absl::StrCat(what, " ", tmp));
    ::unlink(tmp.c_str());
    return s;
  };
  if (::chown(tmp.c_str(), o.owner, o.group) != 0) return fail("chown");
  if (::chmod(tmp.c_str(), o.mode) != 0) return fail("chmod");
  if (::listen(fd.get(), SOMAXCONN) != 0) return fail("listen");
  // We hold the lock, so whatever is at the path is a stale socket of a dead instance.
  if (::rename(tmp.c_str(), o.path.c_str()) != 0) return fail("rename");
  return fd;
}

}  // namespace

absl::StatusOr<PeerCredentials> ReadPeerCredentials(int fd) {
  ucred cred;
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return ErrnoToStatus(errno, "getsockopt(SO_PEERCRED)");
  }
  return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

absl::StatusOr<std::unique_ptr<UnixListener>> UnixListener::Open(const Options& options) {
  sockaddr_un probe;
  SECUREOS_RETURN_IF_ERROR(FillAddress(options.path, &probe));
  SECUREOS_RETURN_IF_ERROR(MakeParentDir(options.path));
  SECUREOS_ASSIGN_OR_RETURN(UniqueFd lock, TakeLock(options.path + ".lock"));
  SECUREOS_ASSIGN_OR_RETURN(UniqueFd listen, BindSocket(options));
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return ErrnoToStatus(errno, "eventfd");
  return std::unique_ptr<UnixListener>(
      new UnixListener(options, std::move(lock), std::move(listen), std::move(wake)));
}

UnixListener::UnixListener(Options options, UniqueFd lock, UniqueFd listen, UniqueFd wake)
    : options_(std::move(options)),
      lock_(std::move(lock)),
      listen_(std::move(listen)),
      wake_(std::move(wake)) {}

void UnixListener::Start(AcceptFn on_accept) {
  thread_ = std::thread([this, fn = std::move(on_accept)] { AcceptLoop(fn); });
}

void UnixListener::AcceptLoop(AcceptFn on_accept) {
  pollfd fds[2] = {{listen_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  for (;;) {
    if (RetryOnEintr([&] { return ::poll(fds, 2, -1); }) < 0) {
      Log(LogLevel::kError, "poll on listening socket failed", {{"errno", strerror(errno)}});
      return;
    }
    if (fds[1].revents != 0) return;
    int conn = ::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
      // EMFILE and friends: back off instead of spinning on a readable listener.
      Log(LogLevel::kWarning, "accept failed", {{"errno", strerror(errno)}});
      ::poll(nullptr, 0, 100);
      continue;
    }
    UniqueFd owned(conn);
    absl::StatusOr<PeerCredentials> peer = ReadPeerCredentials(conn);
    if (!peer.ok()) {
      Log(LogLevel::kWarning, "dropping connection without credentials",
          {{"error", std::string(peer.status().message())}});
      continue;
    }
    on_accept(std::move(owned), *peer);
  }
}

void UnixListener::Stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof(one));
  thread_.join();
}

UnixListener::~UnixListener() {
  Stop();
  ::unlink(options_.path.c_str());
  ::unlink((options_.path + ".lock").c_str());
}

}  // namespace secureos
