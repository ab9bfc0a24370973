#include "capd/spawner.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>  // mount(2), MS_*. glibc 2.36 includes <linux/mount.h> from it.
#include <linux/mount.h>  // struct mount_attr, MOUNT_ATTR_*, OPEN_TREE_*, MOVE_MOUNT_* (guarded).
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
  kSignals, kSetsid, kStdio, kCloseFds, kCgroup, kUnshareMounts, kPrivateRoot, kCloneReadWrite,
  kBindReadOnly, kReadOnly, kAttachReadWrite, kPrivateTmp, kRlimit, kChdir, kSecurebits,
  kBounding, kSetgroups, kSetgid, kSetuid, kCapset, kAmbient, kNoNewPrivs, kExec,
};

const char* StepName(int step) {
  static const char* const kNames[] = {
      "reset signals", "setsid", "stdio", "close fds", "join cgroup",
      "unshare mount namespace", "make / private", "clone read-write tree",
      "bind read-only path", "make read-only", "attach read-write tree", "mount private /tmp",
      "setrlimit", "chdir", "securebits", "bounding set", "setgroups", "setresgid",
      "setresuid", "capset", "ambient set", "no_new_privs", "execve"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == kExec + 1, "one name per step");
  return step >= 0 && step <= kExec ? kNames[step] : "unknown step";
}

struct ChildError {
  int step;
  int err;
  int index;  // Which cgroup or mount path of the plan the step was at; -1 for none.
};

[[noreturn]] void Fail(int err_fd, int step, int index = -1) {
  ChildError e{step, errno, index};
  (void)!::write(err_fd, &e, sizeof(e));
  ::_exit(127);
}

// The plan's mount view (MountView in proto/capd.proto), in the child. Raw syscalls on the
// plan's strings; the read-write trees' fds live on the child's own stack.
void ApplyMounts(const SpawnPlan& p, int err_fd) {
  if (::unshare(CLONE_NEWNS) != 0) Fail(err_fd, kUnshareMounts);
  // Before any mount: the copied namespace is in the host's peer groups, and a shared
  // mount would propagate what follows to the host (and the host's later mounts here).
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) Fail(err_fd, kPrivateRoot);
  // Read-write trees are cloned as the host has them, before any is made read-only, and
  // attached after: writable exactly where the host's are, submounts included.
  int trees[kMaxMountPaths];
  const int rw = static_cast<int>(p.read_write_paths.size());
  if (rw > kMaxMountPaths) {
    errno = E2BIG;  // BuildSpawnPlan refuses more; never overrun the array.
    Fail(err_fd, kCloneReadWrite);
  }
  for (int i = 0; i < rw; ++i) {
    trees[i] = static_cast<int>(::syscall(
        SYS_open_tree, AT_FDCWD, p.read_write_paths[i].c_str(),
        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW));
    if (trees[i] < 0) Fail(err_fd, kCloneReadWrite, i);
  }
  for (size_t i = 0; i < p.read_only_paths.size(); ++i) {
    const char* path = p.read_only_paths[i].c_str();
    // "/" is made read-only in place: it is already a mount of this namespace alone (unshare
    // copied every mount), and a bind onto it would go unseen (lookups start at the
    // process's root, the mount below such a bind).
    const bool root = path[0] == '/' && path[1] == '\0';
    if (!root && ::mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      Fail(err_fd, kBindReadOnly, static_cast<int>(i));
    }
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
      Fail(err_fd, kReadOnly, static_cast<int>(i));
    }
  }
  for (int i = 0; i < rw; ++i) {
    if (::syscall(SYS_move_mount, trees[i], "", AT_FDCWD, p.read_write_paths[i].c_str(),
                  MOVE_MOUNT_F_EMPTY_PATH) != 0) {
      Fail(err_fd, kAttachReadWrite, i);
    }
    ::close(trees[i]);
  }
  // Last, so that a read-only "/" (which carries every mount below it) leaves it writable.
  if (p.private_tmp &&
      ::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) {
    Fail(err_fd, kPrivateTmp);
  }
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
  for (size_t i = 0; i < p.cgroup_procs.size(); ++i) {
    if (::write(p.cgroup_procs[i].get(), "0", 1) != 1) Fail(err_fd, kCgroup, static_cast<int>(i));
  }
  // Before the rlimits: a low RLIMIT_NOFILE must not make open_tree fail.
  if (p.private_mounts()) ApplyMounts(p, err_fd);
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

// The plan entry a failed step was at ("" for none).
std::string StepSubject(const SpawnPlan& plan, const ChildError& e) {
  auto at = [&e](const std::vector<std::string>& v) {
    return e.index >= 0 && static_cast<size_t>(e.index) < v.size() ? v[e.index] : std::string();
  };
  switch (e.step) {
    case kCgroup: return at(plan.cgroup_paths);
    case kCloneReadWrite:
    case kAttachReadWrite: return at(plan.read_write_paths);
    case kBindReadOnly:
    case kReadOnly: return at(plan.read_only_paths);
    case kExec: return plan.argv[0];
    case kChdir: return plan.cwd;
    default: return "";
  }
}

absl::Status ChildFailure(const SpawnPlan& plan, const ChildError& e) {
  std::string what = StepName(e.step);
  if (const std::string subject = StepSubject(plan, e); !subject.empty()) {
    what = absl::StrCat(what, " ", subject);
  }
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
