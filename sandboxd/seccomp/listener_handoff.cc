#include "sandboxd/seccomp/listener_handoff.h"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/status.h"

namespace secureos::sandboxd {
namespace {

union FdControl {
  char buf[CMSG_SPACE(sizeof(int))];
  cmsghdr align;
};

}  // namespace

int InstallFilterAndSendListener(const sock_fprog* program, int launcher_fd) {
  if (::syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  const long listener =
      ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, program);
  if (listener < 0) return -errno;
  char byte = 0;
  iovec iov{&byte, 1};
  FdControl control;
  std::memset(&control, 0, sizeof(control));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof(control.buf);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  const int fd = static_cast<int>(listener);
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
  long sent;
  do {
    sent = ::syscall(SYS_sendmsg, launcher_fd, &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent == 1 ? 0 : (sent < 0 ? -errno : -EIO);
}

absl::StatusOr<UniqueFd> ReceiveListener(int socket_fd) {
  char byte = 0;
  iovec iov{&byte, 1};
  FdControl control;
  std::memset(&control, 0, sizeof(control));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof(control.buf);
  const ssize_t n = RetryOnEintr([&] { return ::recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC); });
  if (n < 0) return ErrnoToStatus(errno, "recvmsg (seccomp listener)");
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (n == 0 || cmsg == nullptr || cmsg->cmsg_level != SOL_SOCKET ||
      cmsg->cmsg_type != SCM_RIGHTS || cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
    return absl::FailedPreconditionError(
        "the launcher closed its socket without sending the seccomp listener");
  }
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
  UniqueFd listener(fd);
  if ((msg.msg_flags & MSG_CTRUNC) != 0) {
    return absl::FailedPreconditionError("seccomp listener message truncated");
  }
  return listener;
}

}  // namespace secureos::sandboxd
