#include "sandboxd/launcher.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <linux/securebits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"
#include "sandboxd/seccomp/listener_handoff.h"

namespace secureos::sandboxd {
namespace {

constexpr int kSetupTimeoutMs = 10000;

// What the child sends on the launch socket: an error ends the launch; a held child says it
// is ready (set up, waiting for Release); the seccomp listener comes as one byte with
// SCM_RIGHTS (listener_handoff.h); end of file means execve succeeded.
struct ChildMessage {
  enum Kind : int32_t { kError = 2, kReady = 3 } kind;
  int32_t err;
  char what[232];
};

// strlcpy-alike for the child: no allocation, always terminated.
void CopyText(char* dst, size_t size, const char* a, const char* b) {
  size_t n = 0;
  for (const char* s : {a, b}) {
    for (; s != nullptr && *s != '\0' && n + 1 < size; ++s) dst[n++] = *s;
  }
  dst[n] = '\0';
}

[[noreturn]] void Fail(int sock, const char* what, const char* detail = nullptr) {
  ChildMessage m{};
  m.kind = ChildMessage::kError;
  m.err = errno;
  CopyText(m.what, sizeof(m.what), what, detail);
  // sendmsg, not send (sendto): after the filter is in, sendmsg on this socket is the one
  // call the workload's profile always allows (see the header).
  iovec iov{&m, sizeof(m)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  (void)!::sendmsg(sock, &msg, MSG_NOSIGNAL);
  ::_exit(127);
}

void LoopbackUp(int sock) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) Fail(sock, "socket for lo");
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, "lo", 3);
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) Fail(sock, "SIOCGIFFLAGS lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) Fail(sock, "bring lo up");
  ::close(s);
}

void ResetSignals(int sock) {
  // Dispositions first, while everything is still blocked (the mask came from Launch).
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);  // EINVAL for KILL/STOP: fine.
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) Fail(sock, "reset signal mask");
}

// The namespaces the child is in once set up: its own new ones, or those it joins.
uint64_t Namespaces(const LaunchPlan& p) { return p.clone_flags | p.join_flags; }

void DropPrivileges(const LaunchPlan& p, int sock) {
  if (::syscall(SYS_setgroups, 0, nullptr) != 0) Fail(sock, "setgroups");
  // Both need CAP_SETPCAP in the child's user namespace: a new user namespace gives it, the
  // host's does not (sandboxd gave it up, DESIGN.md). Without one (level 3) the uid change
  // below, from host root to a non-root uid without SECBIT_KEEP_CAPS, clears the permitted,
  // effective and ambient sets, and no_new_privs keeps exec from granting anything (setuid
  // and file capabilities are ignored), so the bounding set left as sandboxd's has nothing
  // to bound.
  if (Namespaces(p) & CLONE_NEWUSER) {
    const int bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
    if (::prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) Fail(sock, "securebits");
    for (int cap = 0; cap < 64; ++cap) {
      if ((p.keep_caps >> cap) & 1) continue;
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) Fail(sock, "bounding set");
    }
  }
  if (::syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) Fail(sock, "setresgid");
  if (::syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) Fail(sock, "setresuid");
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    const uint32_t word = static_cast<uint32_t>(p.keep_caps >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = word;
  }
  if (::syscall(SYS_capset, &header, data) != 0) Fail(sock, "capset");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) Fail(sock, "ambient set");
  for (int cap = 0; cap < 64; ++cap) {
    if (((p.keep_caps >> cap) & 1) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      Fail(sock, "ambient set");
    }
  }
}

void DieWithParent(int sock) {
  // After the uid change: a credential change clears the parent-death signal.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) Fail(sock, "PR_SET_PDEATHSIG");
  // The parent may have died before that: its end of the socket is then closed.
  char c;
  if (::recv(sock, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0) ::_exit(127);
}

// Held (Prepare): everything but the filter and the exec is done; says so and waits. A
// parent that goes away instead closes the socket, and the child ends.
void WaitForRelease(int sock) {
  ChildMessage m{};
  m.kind = ChildMessage::kReady;
  iovec iov{&m, sizeof(m)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (::sendmsg(sock, &msg, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof(m))) ::_exit(127);
  char go;
  if (::recv(sock, &go, 1, 0) != 1) ::_exit(127);
}

[[noreturn]] void RunChild(const LaunchPlan& p, int sock) {
  char go;
  if (::recv(sock, &go, 1, 0) != 1) ::_exit(127);  // The parent gave up on us.
  // setns with a pidfd joins several at once, the user namespace first (its capabilities
  // then allow the others). The pid namespace is already the child's own (see Launch).
  if (p.join_pidfd >= 0 &&
      ::setns(p.join_pidfd, static_cast<int>(p.join_flags & ~uint64_t{CLONE_NEWPID})) != 0) {
    Fail(sock, "join the workload's namespaces");
  }
  ResetSignals(sock);
  if (::setsid() < 0) Fail(sock, "setsid");
  if (Namespaces(p) & CLONE_NEWUSER) {
    // Become the workload's (mapped) ids now: until then the child's ids are unmapped in
    // its namespace and the kernel refuses to create files for it (EOVERFLOW). Its
    // capabilities there stay: they are only cleared on leaving the namespace's uid 0,
    // and host root is not that.
    if (::syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) Fail(sock, "setresgid");
    if (::syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) Fail(sock, "setresuid");
  }
  if ((p.clone_flags & CLONE_NEWUTS) &&
      ::sethostname(p.hostname.c_str(), p.hostname.size()) != 0) {
    Fail(sock, "sethostname");
  }
  if (p.loopback) LoopbackUp(sock);
  if (p.fs.has_value()) {
    const char* step = "filesystem";
    if (const int err = ApplyFsPlan(*p.fs, &step); err != 0) {
      errno = err;
      Fail(sock, step);
    }
  } else if (::chdir(p.cwd.c_str()) != 0) {
    Fail(sock, "chdir ", p.cwd.c_str());
  }
  if (::dup2(p.stdio.in.get(), 0) < 0 || ::dup2(p.stdio.out.get(), 1) < 0 ||
      ::dup2(p.stdio.err.get(), 2) < 0) {
    Fail(sock, "stdio");
  }
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) Fail(sock, "close fds");
  for (const auto& [resource, limit] : p.rlimits) {
    if (::setrlimit(static_cast<__rlimit_resource>(resource), &limit) != 0) Fail(sock, "setrlimit");
  }
  DropPrivileges(p, sock);
  if (p.die_with_parent) DieWithParent(sock);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail(sock, "no_new_privs");
  if (p.hold) WaitForRelease(sock);
  if (p.seccomp != nullptr) {
    if (const int err = InstallFilterAndSendListener(p.seccomp, sock); err != 0) {
      errno = -err;
      Fail(sock, "seccomp filter");
    }
  }
  ::execve(p.argv_ptrs[0], p.argv_ptrs.data(), p.env_ptrs.data());
  Fail(sock, "execve ", p.argv_ptrs[0]);
}

absl::Status WriteProcFile(pid_t pid, const char* name, const std::string& content) {
  const std::string path = absl::StrCat("/proc/", pid, "/", name);
  SECUREOS_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_WRONLY));
  // One write: the kernel takes an id map only whole.
  if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
    return ErrnoToStatus(errno, "write " + path);
  }
  return absl::OkStatus();
}

// Receives one message (and a listener fd with it, if any). 0: end of file (exec'd).
absl::StatusOr<size_t> Receive(int sock, ChildMessage* m, UniqueFd* fd) {
  pollfd pfd{sock, POLLIN, 0};
  const int ready = RetryOnEintr([&] { return ::poll(&pfd, 1, kSetupTimeoutMs); });
  if (ready == 0) {
    return absl::DeadlineExceededError(
        absl::StrCat("the workload did not reach exec within ", kSetupTimeoutMs, " ms"));
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{m, sizeof(*m)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const ssize_t n = RetryOnEintr([&] { return ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); });
  if (n < 0) return ErrnoToStatus(errno, "recvmsg launch socket");
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int received;
      std::memcpy(&received, CMSG_DATA(c), sizeof(int));
      fd->Reset(received);
    }
  }
  return static_cast<size_t>(n);
}

absl::Status ChildError(const ChildMessage& m) {
  absl::Status s = ErrnoToStatus(m.err, std::string(m.what, strnlen(m.what, sizeof(m.what))));
  // A missing program is the request's fault; anything else is the sandbox that failed.
  if (absl::StartsWith(m.what, "execve ")) {
    return absl::InvalidArgumentError(
        absl::StrCat("argv[0]: ", s.message(), " (inside the workload's filesystem view)"));
  }
  return absl::FailedPreconditionError(absl::StrCat("sandbox setup failed: ", s.message()));
}

// Reads the child's messages until it exec'd (end of file), or, with `until_ready`, until
// it is ready and waiting.
absl::Status ReceiveUntil(int sock, bool until_ready, LaunchedWorkload* out) {
  for (;;) {
    ChildMessage m{};
    UniqueFd fd;
    SECUREOS_ASSIGN_OR_RETURN(size_t n, Receive(sock, &m, &fd));
    if (n == 0) {
      return until_ready ? absl::InternalError("the workload ended before it was ready") : absl::OkStatus();
    }
    if (fd.valid()) {
      out->seccomp_listener = std::move(fd);
    } else if (n == sizeof(m) && m.kind == ChildMessage::kError) {
      return ChildError(m);
    } else if (n == sizeof(m) && m.kind == ChildMessage::kReady && until_ready) {
      return absl::OkStatus();
    } else {
      return absl::InternalError("unexpected message on the launch socket");
    }
  }
}

absl::Status SendGo(int sock) {
  const char go = 'g';
  if (::send(sock, &go, 1, MSG_NOSIGNAL) != 1) return ErrnoToStatus(errno, "start the workload");
  return absl::OkStatus();
}

// Talks to the child from "go" to exec, or to ready when it is held.
absl::Status Handshake(const LaunchPlan& plan, pid_t pid, int sock, LaunchedWorkload* out) {
  if (plan.clone_flags & CLONE_NEWUSER) {
    SECUREOS_RETURN_IF_ERROR(WriteProcFile(pid, "uid_map", plan.uid_map));
    SECUREOS_RETURN_IF_ERROR(WriteProcFile(pid, "gid_map", plan.gid_map));
  }
  SECUREOS_RETURN_IF_ERROR(SendGo(sock));
  return ReceiveUntil(sock, plan.hold, out);
}

void KillAndReap(const LaunchedWorkload& w) {
  ::syscall(SYS_pidfd_send_signal, w.pidfd.get(), SIGKILL, nullptr, 0);
  RetryOnEintr([&] { return ::waitpid(w.pid, nullptr, 0); });
}

// Once it exec'd: its stdio is its own; the read ends of streamed output are the caller's.
LaunchedWorkload Finished(LaunchPlan& plan, LaunchedWorkload out) {
  // Only now: until exec the child may share this memory and read these numbers.
  plan.stdio.in.Reset();
  plan.stdio.out.Reset();
  plan.stdio.err.Reset();
  out.stdout_read = std::move(plan.stdio.out_read);
  out.stderr_read = std::move(plan.stdio.err_read);
  return out;
}

// The child's own stack: with CLONE_VM it runs in sandboxd's memory.
constexpr size_t kChildStackBytes = 512 << 10;

struct StackDeleter {
  void operator()(void* p) const { ::munmap(p, kChildStackBytes); }
};

struct ChildStart {
  const LaunchPlan* plan;
  int child_sock;
};

int ChildEntry(void* arg) {
  const auto* start = static_cast<const ChildStart*>(arg);
  // The launch socket at its fixed number; close-on-exec like every other fd.
  if (::dup3(start->child_sock, start->plan->launcher_fd, O_CLOEXEC) < 0) ::_exit(127);
  RunChild(*start->plan, start->plan->launcher_fd);
}

// Starts the child; its pid, or -1 with errno.
//
// Normally as posix_spawn does, with CLONE_VM on its own stack: no copy of sandboxd's page
// tables and no copy-on-write faults afterwards (a fork-like clone of the daemon was most
// of a workload start's CPU time). Unlike vfork this thread goes on, since it writes the
// id maps while the child waits; the child only reads the plan and writes its own stack
// until exec. The one thing both touch is this thread's errno: the child reads it right
// after its own failed call, and this thread only changes it when one of its own calls
// fails, which fails the launch anyway.
// A time namespace needs clone3 (clone's flags cannot express CLONE_NEWTIME), and the
// sanitizer runtime needs its own copy of the process: both fall back to a fork-like clone3.
pid_t StartChild(const ChildStart& start, void* stack, int* pidfd) {
  const uint64_t flags = start.plan->clone_flags;
#if !defined(__SANITIZE_ADDRESS__)
  if ((flags & CLONE_NEWTIME) == 0) {
    return ::clone(ChildEntry, static_cast<char*>(stack) + kChildStackBytes,
                   static_cast<int>(flags) | CLONE_VM | CLONE_PIDFD | SIGCHLD,
                   const_cast<ChildStart*>(&start), pidfd);
  }
#endif
  (void)stack;
  clone_args args{};
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  args.exit_signal = SIGCHLD;
  const long pid = ::syscall(SYS_clone3, &args, sizeof(args));
  if (pid == 0) ChildEntry(const_cast<ChildStart*>(&start));
  return static_cast<pid_t>(pid);
}

// Where this thread's children are born: the joined workload's pid namespace from Enter
// to Leave (setns(CLONE_NEWPID) changes only pid_for_children, and is allowed in a
// multi-threaded process), so that an exec'd process is inside the workload's pid
// namespace like everything else the workload runs.
class PidNamespaceForChildren {
 public:
  static absl::StatusOr<PidNamespaceForChildren> Enter(const LaunchPlan& plan) {
    PidNamespaceForChildren p;
    if (plan.join_pidfd < 0 || (plan.join_flags & CLONE_NEWPID) == 0) return p;
    SECUREOS_ASSIGN_OR_RETURN(p.own_, OpenFile("/proc/thread-self/ns/pid", O_RDONLY));
    if (::setns(plan.join_pidfd, CLONE_NEWPID) != 0) {
      return ErrnoToStatus(errno, "enter the workload's pid namespace");
    }
    return p;
  }
  // Back to this thread's own pid namespace for its later children.
  absl::Status Leave() {
    if (!own_.valid()) return absl::OkStatus();
    if (::setns(own_.get(), CLONE_NEWPID) != 0) {
      return ErrnoToStatus(errno, "leave the workload's pid namespace");
    }
    own_.Reset();
    return absl::OkStatus();
  }

 private:
  UniqueFd own_;
};

}  // namespace

namespace {

// Clones the child and sees it through its set-up: to its exec, or with plan.hold to the
// point where it waits for Release.
absl::StatusOr<HeldChild> Begin(LaunchPlan& plan, const BeforeStart& before_start) {
  plan.argv_ptrs = CStringArray(plan.argv);
  plan.env_ptrs = CStringArray(plan.env);
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return ErrnoToStatus(errno, "socketpair");
  }
  HeldChild held;
  held.sock.Reset(pair[0]);
  UniqueFd child_sock(pair[1]);
  void* mem = ::mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (mem == MAP_FAILED) return ErrnoToStatus(errno, "mmap child stack");
  held.stack = std::shared_ptr<void>(mem, StackDeleter());
  const ChildStart start{&plan, child_sock.get()};
  // All signals blocked across the clone: the child resets dispositions before it
  // unblocks them, so no sandboxd handler ever runs in it.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  int pidfd = -1;
  SECUREOS_ASSIGN_OR_RETURN(PidNamespaceForChildren joined, PidNamespaceForChildren::Enter(plan));
  const pid_t pid = StartChild(start, held.stack.get(), &pidfd);
  const int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (absl::Status left = joined.Leave(); !left.ok()) {
    // This thread would bear every later workload inside that workload's pid namespace:
    // never go on from here.
    Log(LogLevel::kError, "launcher thread stuck in a workload's pid namespace",
        {{"error", std::string(left.message())}});
    std::abort();
  }
  if (pid < 0) return ErrnoToStatus(clone_errno, "clone");
  held.workload.pid = pid;
  held.workload.pidfd.Reset(pidfd);
  child_sock.Reset();  // Our copy: the socket reads end of file once the child has exec'd.
  absl::Status s = before_start ? before_start(pid) : absl::OkStatus();
  if (s.ok()) s = Handshake(plan, pid, held.sock.get(), &held.workload);
  if (!s.ok()) {
    KillAndReap(held.workload);
    return s;
  }
  return held;
}

}  // namespace

absl::StatusOr<LaunchedWorkload> Launch(LaunchPlan& plan, const BeforeStart& before_start) {
  plan.hold = false;
  SECUREOS_ASSIGN_OR_RETURN(HeldChild done, Begin(plan, before_start));
  return Finished(plan, std::move(done.workload));
}

absl::StatusOr<HeldChild> Prepare(LaunchPlan& plan, const BeforeStart& before_start) {
  plan.hold = true;
  return Begin(plan, before_start);
}

absl::StatusOr<LaunchedWorkload> Release(LaunchPlan& plan, HeldChild held) {
  absl::Status s = SendGo(held.sock.get());
  if (s.ok()) s = ReceiveUntil(held.sock.get(), /*until_ready=*/false, &held.workload);
  if (!s.ok()) {
    KillAndReap(held.workload);
    return s;
  }
  return Finished(plan, std::move(held.workload));
}

}  // namespace secureos::sandboxd
