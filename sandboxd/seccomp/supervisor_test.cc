// Real kernel: a forked child loads a compiled program (with the launcher's fd at 900 and
// RLIMIT_NOFILE at 900), hands its listener back over fd 900, and makes syscalls or execs a
// program; the parent supervises it with SeccompSupervisor.
#include "sandboxd/seccomp/supervisor.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "sandboxd/seccomp/listener_handoff.h"
#include "sandboxd/seccomp/profile.h"
#include "sandboxd/seccomp/syscall_names.h"

namespace secureos::sandboxd {
namespace {

using Report = SeccompSupervisor::Report;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr int kLauncherFd = 900;

struct Outcome {
  int status = -1;  // waitpid status.
  std::vector<Report> reports;
  bool kill_called = false;
  std::set<int> used;  // Learning mode.
  std::string out;     // The child's stdout.
};

v1::SeccompProfile Parse(const std::string& text) {
  v1::SeccompProfile p;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &p)) << text;
  return p;
}

std::unique_ptr<CompiledFilter> Compile(const v1::SeccompProfile& p, bool learn = false) {
  absl::StatusOr<std::unique_ptr<CompiledFilter>> f =
      CompiledFilter::Compile(p, learn, kLauncherFd);
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *std::move(f) : nullptr;
}

// Runs in the child: become a launched workload, then `body` (its result is the exit code).
[[noreturn]] void ChildMain(const CompiledFilter& filter, int launcher_end, int out_fd,
                            const std::function<int()>& body) {
  if (::dup2(out_fd, 1) < 0) ::_exit(120);
  if (::dup3(launcher_end, kLauncherFd, O_CLOEXEC) < 0) ::_exit(121);
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_max = kLauncherFd;
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_cur, kLauncherFd);
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(122);
  if (InstallFilterAndSendListener(filter.program(), kLauncherFd) != 0) ::_exit(123);
  ::_exit(body());
}

Outcome RunUnder(const CompiledFilter& filter, const std::function<int()>& body) {
  Outcome outcome;
  int sv[2];
  UniqueFd out(::memfd_create("child-stdout", MFD_CLOEXEC));
  if (!out.valid() || ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    ADD_FAILURE() << "setup: " << std::strerror(errno);
    return outcome;
  }
  UniqueFd parent_end(sv[0]), child_end(sv[1]);
  const pid_t pid = ::fork();
  if (pid == 0) ChildMain(filter, child_end.get(), out.get(), body);
  child_end.Reset();
  absl::StatusOr<UniqueFd> listener = ReceiveListener(parent_end.get());
  std::mutex mu;
  std::atomic<bool> killed{false};
  std::unique_ptr<SeccompSupervisor> supervisor;
  if (listener.ok()) {
    absl::StatusOr<std::unique_ptr<SeccompSupervisor>> s = SeccompSupervisor::Start(
        *std::move(listener), &filter,
        [&](const Report& r) {
          std::lock_guard<std::mutex> lock(mu);
          outcome.reports.push_back(r);
        },
        [&] {
          killed = true;
          ::kill(pid, SIGKILL);
        });
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) supervisor = *std::move(s);
  } else {
    ADD_FAILURE() << listener.status();
  }
  if (supervisor == nullptr) ::kill(pid, SIGKILL);
  for (int waited_ms = 0;; waited_ms += 10) {
    const pid_t r = ::waitpid(pid, &outcome.status, WNOHANG);
    if (r == pid) break;
    if (waited_ms == 30000) {
      ADD_FAILURE() << "the child did not finish";
      ::kill(pid, SIGKILL);
    }
    ::usleep(10000);
  }
  if (supervisor != nullptr) outcome.used = supervisor->used();
  supervisor.reset();
  outcome.kill_called = killed;
  char buf[65536];
  const ssize_t n = ::pread(out.get(), buf, sizeof(buf), 0);
  if (n > 0) outcome.out.assign(buf, n);
  return outcome;
}

// Results the child writes to stdout: one int per step.
void Put(int value) { (void)!::write(1, &value, sizeof(value)); }

std::vector<int> Results(const Outcome& o) {
  std::vector<int> out(o.out.size() / sizeof(int));
  std::memcpy(out.data(), o.out.data(), out.size() * sizeof(int));
  return out;
}

int ErrnoOf(long result) { return result == -1 ? errno : 0; }

std::function<int()> Exec(std::vector<std::string> argv) {
  return [argv] {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // Without HOME, glibc looks the user up, and tries nscd's socket (refused by strict).
    char path[] = "PATH=/usr/bin:/bin";
    char home[] = "HOME=/";
    char* env[] = {path, home, nullptr};
    ::execve(args[0], args.data(), env);
    return 127;
  };
}

bool ExitedWith(const Outcome& o, int code) {
  return WIFEXITED(o.status) && WEXITSTATUS(o.status) == code;
}

auto ReportOf(const std::string& syscall, const std::string& action, const std::string& rule) {
  return AllOf(Field(&Report::syscall, syscall), Field(&Report::action, action),
               Field(&Report::rule, rule));
}

TEST(SeccompSupervisorTest, DefaultProfileRefusesNamespacesAndPtraceWithEperm) {
  v1::SeccompProfile p;
  p.set_base("default");
  auto filter = Compile(p);
  ASSERT_NE(filter, nullptr);
  const Outcome o = RunUnder(*filter, [] {
    Put(ErrnoOf(::syscall(SYS_unshare, CLONE_NEWUSER)));
    const long c = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (c == 0) ::_exit(0);
    Put(ErrnoOf(c));
    Put(ErrnoOf(::syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0)));
    const pid_t child = ::fork();  // clone without namespace flags: allowed.
    if (child == 0) ::_exit(7);
    int status = 0;
    ::waitpid(child, &status, 0);
    Put(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(o, 0)) << o.status;
  EXPECT_THAT(Results(o), ElementsAre(EPERM, EPERM, EPERM, 7));
  ASSERT_THAT(o.reports, SizeIs(3));
  EXPECT_THAT(o.reports[0],
              ReportOf("unshare", "errno EPERM", "default action of profile default"));
  EXPECT_EQ(o.reports[0].args[0], static_cast<uint64_t>(CLONE_NEWUSER));
  EXPECT_EQ(o.reports[0].nr, SYS_unshare);
  EXPECT_GT(o.reports[0].pid, 0);
  EXPECT_THAT(o.reports[1], ReportOf("clone", "errno EPERM", o.reports[1].rule));
  EXPECT_THAT(o.reports[1].rule, HasSubstr("(clone)"));
  EXPECT_THAT(o.reports[2], ReportOf("ptrace", "errno EPERM", "default action of profile default"));
  EXPECT_FALSE(o.kill_called);
}

TEST(SeccompSupervisorTest, ARuleErrnoValueIsReturnedAndTheGroupNamed) {
  auto filter = Compile(Parse(R"pb(
    base: "default"
    rules { action: SECCOMP_ACTION_ERRNO errno_value: 95 syscalls: "@mount" }
  )pb"));
  ASSERT_NE(filter, nullptr);
  const Outcome o = RunUnder(*filter, [] {
    Put(ErrnoOf(::syscall(SYS_mount, "none", "/nonexistent", "tmpfs", 0, 0)));
    return 0;
  });
  EXPECT_TRUE(ExitedWith(o, 0)) << o.status;
  EXPECT_THAT(Results(o), ElementsAre(ENOTSUP));
  ASSERT_THAT(o.reports, SizeIs(1));
  EXPECT_EQ(o.reports[0].syscall, "mount");
  EXPECT_EQ(o.reports[0].action, "errno EOPNOTSUPP");
  EXPECT_THAT(o.reports[0].rule, AllOf(HasSubstr("rule "), HasSubstr(" (@mount)")));
}

TEST(SeccompSupervisorTest, KillProcessKillsTheWorkload) {
  auto filter = Compile(Parse(R"pb(
    base: "default"
    rules { action: SECCOMP_ACTION_KILL_PROCESS syscalls: "ptrace" }
  )pb"));
  ASSERT_NE(filter, nullptr);
  const Outcome o = RunUnder(*filter, [] {
    Put(1);
    ::syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
    Put(2);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(o.status)) << o.status;
  EXPECT_EQ(WTERMSIG(o.status), SIGKILL);
  EXPECT_TRUE(o.kill_called);
  EXPECT_THAT(Results(o), ElementsAre(1));
  ASSERT_THAT(o.reports, SizeIs(1));
  EXPECT_THAT(o.reports[0], ReportOf("ptrace", "killed", o.reports[0].rule));
  EXPECT_THAT(o.reports[0].rule, HasSubstr("(ptrace)"));
}

TEST(SeccompSupervisorTest, LogLetsTheSyscallRunAndReportsIt) {
  auto filter = Compile(Parse(R"pb(
    base: "default"
    rules { action: SECCOMP_ACTION_LOG syscalls: "getppid" }
  )pb"));
  ASSERT_NE(filter, nullptr);
  const int parent = ::getpid();
  const Outcome o = RunUnder(*filter, [parent] {
    Put(static_cast<int>(::syscall(SYS_getppid)) == parent ? 1 : 0);
    return 0;
  });
  EXPECT_TRUE(ExitedWith(o, 0)) << o.status;
  EXPECT_THAT(Results(o), ElementsAre(1));
  ASSERT_THAT(o.reports, SizeIs(1));
  EXPECT_THAT(o.reports[0], ReportOf("getppid", "logged", o.reports[0].rule));
}

TEST(SeccompSupervisorTest, UnknownNumbersFailWithEnosys) {
  v1::SeccompProfile p;
  p.set_base("default");
  auto filter = Compile(p);
  ASSERT_NE(filter, nullptr);
  const Outcome o = RunUnder(*filter, [] {
    Put(ErrnoOf(::syscall(1023, 1, 2, 3)));
    return 0;
  });
  EXPECT_TRUE(ExitedWith(o, 0)) << o.status;
  EXPECT_THAT(Results(o), ElementsAre(ENOSYS));
  ASSERT_THAT(o.reports, SizeIs(1));
  EXPECT_THAT(o.reports[0], ReportOf("syscall_1023", "ENOSYS (unknown to the profile)",
                                     "default action of profile default"));
  EXPECT_EQ(o.reports[0].args[2], 3u);
}

TEST(SeccompSupervisorTest, AQuietRuleIsAnsweredByTheKernelWithoutAReport) {
  v1::SeccompProfile p;
  p.set_base("default");  // clone3 -> ENOSYS, quiet: glibc's fallback is not a violation.
  auto filter = Compile(p);
  ASSERT_NE(filter, nullptr);
  const Outcome o = RunUnder(*filter, [] {
    Put(ErrnoOf(::syscall(SYS_clone3, nullptr, 0)));
    Put(ErrnoOf(::syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0)));
    return 0;
  });
  EXPECT_TRUE(ExitedWith(o, 0)) << o.status;
  EXPECT_THAT(Results(o), ElementsAre(ENOSYS, EPERM));
  ASSERT_THAT(o.reports, SizeIs(1));  // ptrace only.
  EXPECT_EQ(o.reports[0].syscall, "ptrace");
}

long GetpidThroughInt80() {
  long ret;
  asm volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");  // i386 getpid.
  return ret;
}

TEST(SeccompSupervisorTest, ThirtyTwoBitAndX32SyscallsKillTheProcess) {
  // Without a filter, this kernel runs 32-bit syscalls.
  const pid_t probe = ::fork();
  if (probe == 0) ::_exit(GetpidThroughInt80() == ::getpid() ? 0 : 1);
  int status = 0;
  ::waitpid(probe, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) GTEST_SKIP() << "no IA-32 emulation";

  v1::SeccompProfile p;
  p.set_base("default");
  auto filter = Compile(p);
  ASSERT_NE(filter, nullptr);
  const Outcome i386 = RunUnder(*filter, [] {
    Put(1);
    GetpidThroughInt80();
    Put(2);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(i386.status)) << i386.status;
  EXPECT_EQ(WTERMSIG(i386.status), SIGSYS);
  EXPECT_THAT(Results(i386), ElementsAre(1));
  EXPECT_THAT(i386.reports, IsEmpty());

  const Outcome x32 = RunUnder(*filter, [] {
    Put(1);
    ::syscall(39 | 0x40000000);  // x32 getpid.
    Put(2);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(x32.status)) << x32.status;
  EXPECT_EQ(WTERMSIG(x32.status), SIGSYS);
  EXPECT_THAT(Results(x32), ElementsAre(1));
}

TEST(SeccompSupervisorTest, OnlyTheLaunchersSendmsgIsExempt) {
  v1::SeccompProfile p;
  p.set_base("strict");  // sendmsg taken back: refused, except on fd 900.
  v1::SeccompRule* refuse = p.add_rules();
  refuse->add_syscalls("sendmsg");
  refuse->set_action(v1::SECCOMP_ACTION_ERRNO);
  auto filter = Compile(p);
  ASSERT_NE(filter, nullptr);
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd a(pair[0]), b(pair[1]);
  const Outcome o = RunUnder(*filter, [fd = a.get()] {
    char byte = 'x';
    iovec iov{&byte, 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    Put(ErrnoOf(::sendmsg(fd, &msg, 0)));
    Put(ErrnoOf(::dup2(0, kLauncherFd)));  // The workload cannot take the launcher's number.
    return 0;
  });
  EXPECT_TRUE(ExitedWith(o, 0)) << o.status;
  EXPECT_THAT(Results(o), ElementsAre(EPERM, EBADF));
  ASSERT_THAT(o.reports, SizeIs(1));
  EXPECT_THAT(o.reports[0], AllOf(Field(&Report::syscall, "sendmsg"), Field(&Report::action, "errno EPERM"),
                                  Field(&Report::rule, HasSubstr("(sendmsg)"))));
}

TEST(SeccompSupervisorTest, TheWorkloadHoldsNeitherListenerNorLauncherSocketAfterExec) {
  v1::SeccompProfile p;
  p.set_base("default");
  auto filter = Compile(p);
  ASSERT_NE(filter, nullptr);
  const Outcome o = RunUnder(*filter, Exec({"/bin/ls", "/proc/self/fd"}));
  EXPECT_TRUE(ExitedWith(o, 0)) << o.status;
  EXPECT_EQ(o.out, "0\n1\n2\n3\n");  // 3 is ls's own directory handle.
  EXPECT_THAT(o.reports, IsEmpty());
}

TEST(SeccompSupervisorTest, StrictRunsShellPipelinesCoreutilsAndPython) {
  for (const char* base : {"strict", "default"}) {
    v1::SeccompProfile p;
    p.set_base(base);
    auto filter = Compile(p);
    ASSERT_NE(filter, nullptr);
    const Outcome sh = RunUnder(
        *filter, Exec({"/bin/sh", "-c",
                       "echo hi | cat; ls / >/dev/null; x=$(echo a); test \"$x\" = a && true"}));
    EXPECT_TRUE(ExitedWith(sh, 0)) << base << " " << sh.status;
    EXPECT_EQ(sh.out, "hi\n");
    EXPECT_THAT(sh.reports, IsEmpty()) << base << ": " << sh.reports[0].syscall;
    const Outcome py = RunUnder(*filter, Exec({"/usr/bin/python3", "-c", "print(1)"}));
    EXPECT_TRUE(ExitedWith(py, 0)) << base << " " << py.status;
    EXPECT_EQ(py.out, "1\n");
    EXPECT_THAT(py.reports, IsEmpty()) << base << ": " << py.reports[0].syscall;
  }
}

TEST(SeccompSupervisorTest, LearningModeProducesAProfileTheWorkloadRunsUnder) {
  v1::SeccompProfile p;
  p.set_base("strict");  // Ignored while learning.
  auto learner = Compile(p, /*learn=*/true);
  ASSERT_NE(learner, nullptr);
  const Outcome learned = RunUnder(*learner, Exec({"/bin/true"}));
  EXPECT_TRUE(ExitedWith(learned, 0)) << learned.status;
  EXPECT_THAT(learned.reports, IsEmpty());
  int brk = 0, exit_group = 0;
  ASSERT_EQ(LookUpSyscall("brk", &brk), SyscallLookup::kFound);
  ASSERT_EQ(LookUpSyscall("exit_group", &exit_group), SyscallLookup::kFound);
  EXPECT_THAT(learned.used, Contains(brk));
  EXPECT_THAT(learned.used, Not(Contains(exit_group)));  // Always allowed: never notified.

  auto enforced = Compile(LearnedProfile(learned.used));
  ASSERT_NE(enforced, nullptr);
  const Outcome again = RunUnder(*enforced, Exec({"/bin/true"}));
  EXPECT_TRUE(ExitedWith(again, 0)) << again.status;
  EXPECT_THAT(again.reports, IsEmpty());

  const Outcome other = RunUnder(*enforced, Exec({"/bin/ls", "/"}));
  ASSERT_THAT(other.reports, Not(IsEmpty()));
  EXPECT_THAT(other.reports, Each(Field(&Report::rule, "default action of the profile")));
  for (const Report& r : other.reports) {
    EXPECT_EQ(learned.used.count(r.nr), 0u) << r.syscall;
    EXPECT_EQ(r.action, "errno EPERM");
  }
}

}  // namespace
}  // namespace secureos::sandboxd
