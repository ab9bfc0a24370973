#include "capd/spawner.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "capd/proc_status.h"
#include "common/status.h"

namespace secureos::capd {
namespace {

enum Step : int {
  kSignals, kSetsid, kStdio, kCloseFds, kCgroup, kRlimit, kChdir, kSecurebits, kBounding,
  kSetgroups, kSetgid, kSetuid, kCapset, kAmbient, kNoNewPrivs, kExec,
};

const char* StepName(int step) {
  static const char* const kNames[] = {
      "reset signals", "setsid", "stdio", "close fds", "join cgroup", "setrlimit", "chdir",
      "securebits", "bounding set", "setgroups", "setresgid", "setresuid", "capset",
      "ambient set", "no_new_privs", "execve"};
  return step >= 0 && step <= kExec ? kNames[step] : "unknown step";
}

struct ChildError {
  int step;
  int err;
};

[[noreturn]] void Fail(int err_fd, int step) {
  ChildError e{step, errno};
  (void)!::write(err_fd, &e, sizeof(e));
  ::_exit(127);
}

// Runs in the child: raw syscalls on data prepared by the parent, nothing else.
[[noreturn]] void RunChild(const SpawnPlan& p, int err_fd, int last_cap,
                           const __user_cap_data_struct* cap_data) {
  // Dispositions first, while every signal is still blocked: the child shares capd's memory,
  // and one of capd's handlers must never run in it.
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);  // EINVAL for KILL/STOP: fine.
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) Fail(err_fd, kSignals);
  if (::setsid() < 0) Fail(err_fd, kSetsid);
  if (::dup2(p.stdin_fd.get(), 0) < 0 || ::dup2(p.stdout_fd.get(), 1) < 0 ||
      ::dup2(p.stderr_fd.get(), 2) < 0) {
    Fail(err_fd, kStdio);
  }
  // Everything but stdio closes at exec (err_fd already does, so a failed exec reports).
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) Fail(err_fd, kCloseFds);
  if (p.cgroup_procs.valid() && ::write(p.cgroup_procs.get(), "0", 1) != 1) Fail(err_fd, kCgroup);
  for (const auto& [resource, limit] : p.rlimits) {
    if (::setrlimit(static_cast<__rlimit_resource>(resource), &limit) != 0) Fail(err_fd, kRlimit);
  }
  if (::chdir(p.cwd.c_str()) != 0) Fail(err_fd, kChdir);
  if (::prctl(PR_SET_SECUREBITS, p.securebits, 0, 0, 0) != 0) Fail(err_fd, kSecurebits);
  for (int cap = 0; cap <= last_cap; ++cap) {
    if (!p.caps.Has(cap) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) Fail(err_fd, kBounding);
  }
  // Raw syscalls, not the libc wrappers: glibc's setresuid & co. broadcast the change to
  // every thread it knows of, and after _Fork it may still believe the parent's threads
  // exist and wait for them forever. The child is single-threaded; the kernel call is all
  // it needs.
  if (::syscall(SYS_setgroups, p.groups.size(), p.groups.data()) != 0) Fail(err_fd, kSetgroups);
  if (::syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) Fail(err_fd, kSetgid);
  if (::syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) Fail(err_fd, kSetuid);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  if (::syscall(SYS_capset, &header, cap_data) != 0) Fail(err_fd, kCapset);
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) Fail(err_fd, kAmbient);
  for (int cap = 0; cap <= last_cap; ++cap) {
    if (p.caps.Has(cap) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      Fail(err_fd, kAmbient);
    }
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail(err_fd, kNoNewPrivs);
  ::execve(p.argv_ptrs[0], p.argv_ptrs.data(), p.env_ptrs.data());
  Fail(err_fd, kExec);
}

struct ChildArgs {
  const SpawnPlan* plan;
  int err_fd;
  int last_cap;
  const __user_cap_data_struct* cap_data;
};

int ChildMain(void* arg) {
  const auto* a = static_cast<const ChildArgs*>(arg);
  RunChild(*a->plan, a->err_fd, a->last_cap, a->cap_data);
}

// The child's stack: it shares capd's memory, so it needs its own.
constexpr size_t kChildStackBytes = 256 << 10;

struct StackDeleter {
  void operator()(void* p) const { ::munmap(p, kChildStackBytes); }
};
using ChildStack = std::unique_ptr<void, StackDeleter>;

// Starts the child; returns its pid and sets *pidfd, or -1 with errno.
pid_t StartChild(const ChildArgs& args, ChildStack& stack, int* pidfd) {
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizer runtime intercepts libc calls in the child: it needs a private copy of
  // its state and its atfork handlers, so a plain fork.
  (void)stack;
  pid_t pid = ::fork();
  if (pid == 0) ChildMain(const_cast<ChildArgs*>(&args));
  if (pid > 0) *pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  return pid;
#else
  // Like posix_spawn: CLONE_VM shares capd's memory instead of copying its page tables
  // (capd is a large multi-threaded process; a fork costs milliseconds plus copy-on-write
  // faults in every capd thread afterwards), and CLONE_VFORK suspends this thread until
  // the child has exec'd or exited, so the shared stack and errno are never used by both.
  return ::clone(ChildMain, static_cast<char*>(stack.get()) + kChildStackBytes,
                 CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, const_cast<ChildArgs*>(&args),
                 pidfd);
#endif
}

absl::Status ChildFailure(const SpawnPlan& plan, const ChildError& e) {
  std::string what = StepName(e.step);
  if (e.step == kExec) what = absl::StrCat("execve ", plan.argv[0]);
  if (e.step == kChdir) what = absl::StrCat("chdir ", plan.cwd);
  absl::Status s = ErrnoToStatus(e.err, what);
  // A spawn that fails inside the child is the request's problem (bad path, uid, ...), but
  // a refused privilege step means capd itself lacks what it needs.
  if (e.step == kExec || e.step == kChdir) return s;
  return absl::FailedPreconditionError(absl::StrCat("spawn failed: ", s.message()));
}

}  // namespace

absl::StatusOr<LaunchedProcess> Launch(SpawnPlan& plan) {
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2");
  UniqueFd err_read(err_pipe[0]);
  UniqueFd err_write(err_pipe[1]);
  __user_cap_data_struct cap_data[2] = {};
  for (int i = 0; i < 2; ++i) {
    const uint32_t word = static_cast<uint32_t>(plan.caps.mask() >> (32 * i));
    cap_data[i].effective = cap_data[i].permitted = cap_data[i].inheritable = word;
  }
  const ChildArgs args{&plan, err_write.get(), LastCap(), cap_data};
  void* mem = ::mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (mem == MAP_FAILED) return ErrnoToStatus(errno, "mmap child stack");
  ChildStack stack(mem);
  // Every signal blocked across the clone: the child starts with them blocked and resets
  // dispositions before it unblocks them.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  int pidfd = -1;
  const pid_t pid = StartChild(args, stack, &pidfd);
  const int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return ErrnoToStatus(clone_errno, "clone");
  LaunchedProcess out;
  out.pid = pid;
  out.pidfd.Reset(pidfd);

  err_write.Reset();
  plan.stdout_fd.Reset();
  plan.stderr_fd.Reset();
  // End of file once the child has exec'd (the pipe is close-on-exec) or died.
  ChildError e;
  ssize_t n = RetryOnEintr([&] { return ::read(err_read.get(), &e, sizeof(e)); });
  if (n == sizeof(e) || !out.pidfd.valid()) {
    if (n != sizeof(e)) ::kill(pid, SIGKILL);  // Running, but it could not be watched.
    RetryOnEintr([&] { return ::waitpid(pid, nullptr, 0); });
    if (n != sizeof(e)) return absl::InternalError("spawn: no pidfd for the child; killed it");
    return ChildFailure(plan, e);
  }
  // Read after exec: a process that already exited still has its /proc entry until reaped.
  absl::StatusOr<uint64_t> start = ReadStartTime(pid);
  out.start_time = start.ok() ? *start : 0;
  out.stdout_read = std::move(plan.stdout_read);
  out.stderr_read = std::move(plan.stderr_read);
  return out;
}

}  // namespace secureos::capd
