#include "sandboxd/seccomp/syscall_groups.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace secureos::sandboxd {
namespace {

// Members are space-separated; "@name" pulls in an earlier group. Written for x86_64:
// syscall_groups_test checks that libseccomp knows every name there.
struct GroupDefinition {
  const char* name;
  const char* description;
  const char* members;
};

constexpr GroupDefinition kDefinitions[] = {
    {"@aio", "POSIX asynchronous I/O (not io_uring)",
     "io_setup io_destroy io_getevents io_pgetevents io_submit io_cancel"},
    {"@basic-io", "Reading, writing and duplicating open file descriptors",
     "read write readv writev pread64 pwrite64 preadv pwritev preadv2 pwritev2 lseek close "
     "close_range dup dup2 dup3 fcntl ioctl sendfile splice tee vmsplice copy_file_range"},
    {"@chown", "Changing file ownership", "chown fchown lchown fchownat"},
    {"@clock", "Setting the system clock", "adjtimex clock_adjtime clock_settime settimeofday"},
    {"@cpu-emulation", "Legacy x86 segment and CPU emulation", "modify_ldt"},
    {"@credentials", "Reading the process's own identity",
     "getuid geteuid getgid getegid getresuid getresgid getgroups capget"},
    {"@debug", "Tracing and inspecting other processes",
     "ptrace process_vm_readv process_vm_writev perf_event_open kcmp pidfd_getfd "
     "process_madvise lookup_dcookie"},
    {"@file-system", "Paths, directories, metadata and file contents",
     "access faccessat faccessat2 chdir fchdir getcwd open openat openat2 creat stat fstat "
     "lstat newfstatat statx statfs fstatfs getdents getdents64 mkdir mkdirat rmdir rename "
     "renameat renameat2 link linkat symlink symlinkat unlink unlinkat readlink readlinkat "
     "truncate ftruncate fallocate chmod fchmod fchmodat fchmodat2 utime utimes utimensat "
     "futimesat umask mknod mknodat flock fadvise64 readahead cachestat name_to_handle_at "
     "inotify_init inotify_init1 inotify_add_watch inotify_rm_watch getxattr lgetxattr "
     "fgetxattr listxattr llistxattr flistxattr setxattr lsetxattr fsetxattr removexattr "
     "lremovexattr fremovexattr"},
    {"@io-event", "Waiting for events on file descriptors",
     "poll ppoll select pselect6 epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait "
     "epoll_pwait2 eventfd eventfd2"},
    {"@io-uring", "io_uring (a large kernel attack surface)",
     "io_uring_setup io_uring_enter io_uring_register"},
    {"@ipc", "Pipes, System V and POSIX IPC, memfds",
     "pipe pipe2 memfd_create shmget shmat shmctl shmdt semget semop semctl semtimedop msgget "
     "msgsnd msgrcv msgctl mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify "
     "mq_getsetattr"},
    {"@keyring", "The kernel keyring", "add_key request_key keyctl"},
    {"@memory", "Mapping and managing the process's own memory",
     "brk mmap munmap mprotect mremap madvise mincore mlock mlock2 munlock mlockall munlockall "
     "membarrier pkey_alloc pkey_free pkey_mprotect remap_file_pages get_mempolicy "
     "set_mempolicy set_mempolicy_home_node mbind memfd_secret map_shadow_stack"},
    {"@module", "Loading and unloading kernel modules",
     "init_module finit_module delete_module create_module query_module get_kernel_syms"},
    {"@mount", "Mounting, unmounting and changing the root",
     "mount umount2 pivot_root chroot open_tree move_mount fsopen fsconfig fsmount fspick "
     "mount_setattr"},
    {"@namespace", "Creating and joining namespaces (clone's flags are filtered separately)",
     "unshare setns"},
    {"@network-io", "Sockets",
     "socket socketpair connect accept accept4 bind listen shutdown getsockname getpeername "
     "setsockopt getsockopt sendto recvfrom sendmsg recvmsg sendmmsg recvmmsg"},
    {"@obsolete", "Syscalls that are unused or unimplemented on current kernels",
     "_sysctl afs_syscall getpmsg putpmsg security tuxcall uselib ustat vserver sysfs "
     "epoll_ctl_old epoll_wait_old create_module get_kernel_syms query_module nfsservctl"},
    {"@process", "Creating, running, waiting for and signalling processes and threads",
     "clone clone3 fork vfork execve execveat exit exit_group wait4 waitid kill tkill tgkill "
     "getpid getppid gettid getpgid setpgid getpgrp getsid setsid set_tid_address prctl "
     "arch_prctl personality pidfd_open pidfd_send_signal process_mrelease rseq "
     "set_robust_list get_robust_list futex futex_waitv futex_wake futex_wait futex_requeue "
     "set_thread_area get_thread_area restart_syscall"},
    {"@raw-io", "Raw I/O port access", "ioperm iopl"},
    {"@reboot", "Rebooting and replacing the kernel", "reboot kexec_load kexec_file_load"},
    {"@resources", "Resource limits, scheduling and priorities",
     "getrlimit setrlimit prlimit64 getrusage getpriority setpriority sched_setparam "
     "sched_getparam sched_setscheduler sched_getscheduler sched_get_priority_max "
     "sched_get_priority_min sched_rr_get_interval sched_setaffinity sched_getaffinity "
     "sched_setattr sched_getattr sched_yield ioprio_set ioprio_get"},
    {"@sandbox", "Sandboxing oneself further (seccomp, Landlock)",
     "seccomp landlock_create_ruleset landlock_add_rule landlock_restrict_self"},
    {"@setuid", "Changing the process's identity and capabilities",
     "setuid setgid setreuid setregid setresuid setresgid setfsuid setfsgid setgroups capset"},
    {"@signal", "Signal handling",
     "rt_sigaction rt_sigprocmask rt_sigreturn rt_sigpending rt_sigtimedwait rt_sigqueueinfo "
     "rt_tgsigqueueinfo rt_sigsuspend sigaltstack pause signalfd signalfd4"},
    {"@swap", "Enabling and disabling swap", "swapon swapoff"},
    {"@sync", "Flushing data to storage", "fsync fdatasync sync syncfs sync_file_range msync"},
    {"@system-info", "Reading information about the system", "uname sysinfo getcpu getrandom"},
    {"@timer", "Clocks, timers and sleeping",
     "alarm getitimer setitimer timer_create timer_settime timer_gettime timer_getoverrun "
     "timer_delete timerfd_create timerfd_settime timerfd_gettime nanosleep clock_nanosleep "
     "clock_gettime clock_getres gettimeofday time times"},
    {"@privileged", "Everything that needs a capability on the host",
     "@chown @clock @module @mount @namespace @raw-io @reboot @swap @setuid @keyring acct bpf "
     "fanotify_init fanotify_mark open_by_handle_at quotactl quotactl_fd sethostname "
     "setdomainname vhangup syslog userfaultfd migrate_pages move_pages"},
};

std::vector<SyscallGroup> BuildGroups() {
  std::vector<SyscallGroup> groups;
  for (const GroupDefinition& def : kDefinitions) {
    std::set<std::string> members;
    for (absl::string_view m : absl::StrSplit(def.members, ' ', absl::SkipEmpty())) {
      if (m[0] != '@') {
        members.emplace(m);
        continue;
      }
      // Only earlier groups can be referenced, so one pass expands everything.
      for (const SyscallGroup& g : groups) {
        if (g.name == m) members.insert(g.syscalls.begin(), g.syscalls.end());
      }
    }
    groups.push_back({def.name, def.description, {members.begin(), members.end()}});
  }
  std::sort(groups.begin(), groups.end(),
            [](const SyscallGroup& a, const SyscallGroup& b) { return a.name < b.name; });
  return groups;
}

}  // namespace

const std::vector<SyscallGroup>& SyscallGroups() {
  static const std::vector<SyscallGroup>* const groups =
      new std::vector<SyscallGroup>(BuildGroups());
  return *groups;
}

const SyscallGroup* FindSyscallGroup(absl::string_view name) {
  for (const SyscallGroup& g : SyscallGroups()) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

std::string SyscallGroupNames() {
  return absl::StrJoin(SyscallGroups(), ", ",
                       [](std::string* out, const SyscallGroup& g) { out->append(g.name); });
}

}  // namespace secureos::sandboxd
