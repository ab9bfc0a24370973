#include "sandboxd/seccomp/compiled_filter.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <iterator>
#include <random>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "sandboxd/seccomp/profile.h"
#include "sandboxd/seccomp/syscall_names.h"
#include "sandboxd/seccomp/testing/bpf_interpreter.h"

namespace secureos::sandboxd {
namespace {

using Decision = CompiledFilter::Decision;
using ::testing::HasSubstr;

constexpr int kLauncherFd = 900;
constexpr uint64_t kNoArgs[6] = {0, 0, 0, 0, 0, 0};

int Nr(const char* name) {
  int nr = -1;
  EXPECT_EQ(LookUpSyscall(name, &nr), SyscallLookup::kFound) << name;
  return nr;
}

v1::SeccompProfile Parse(const std::string& text) {
  v1::SeccompProfile p;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &p)) << text;
  return p;
}

std::unique_ptr<CompiledFilter> CompileOrDie(const v1::SeccompProfile& p, bool learn = false) {
  absl::StatusOr<std::unique_ptr<CompiledFilter>> f =
      CompiledFilter::Compile(p, learn, kLauncherFd);
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *std::move(f) : nullptr;
}

std::unique_ptr<CompiledFilter> Builtin(const char* name) {
  v1::SeccompProfile p;
  p.set_base(name);
  return CompileOrDie(p);
}

uint32_t RunProgram(const CompiledFilter& f, int nr, const uint64_t args[6],
                    uint32_t arch = AUDIT_ARCH_X86_64) {
  seccomp_data data{};
  data.nr = nr;
  data.arch = arch;
  std::copy(args, args + 6, std::begin(data.args));
  absl::StatusOr<uint32_t> ret = testing::RunSeccompProgram(*f.program(), data);
  EXPECT_TRUE(ret.ok()) << ret.status();
  return ret.ok() ? *ret : 0;
}

// The program may notify more than needed, never allow what Decide refuses; `exact` also
// requires it to allow whatever Decide allows.
void ExpectProgramAgrees(const CompiledFilter& f, int nr, const uint64_t args[6], bool exact) {
  const uint32_t ret = RunProgram(f, nr, args);
  const Decision d = f.Decide(nr, args);
  if ((ret & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) {
    // Only a quiet rule is answered in the kernel, and with the errno Decide() names.
    ASSERT_EQ(d.kind, Decision::kErrno) << SyscallName(nr);
    ASSERT_EQ(static_cast<int>(ret & SECCOMP_RET_DATA), d.errno_value) << SyscallName(nr);
    return;
  }
  ASSERT_TRUE(ret == SECCOMP_RET_ALLOW || ret == SECCOMP_RET_USER_NOTIF) << std::hex << ret;
  if (d.kind != Decision::kAllow) {
    ASSERT_EQ(ret, SECCOMP_RET_USER_NOTIF) << SyscallName(nr) << " arg0=" << args[0];
  } else if (exact) {
    ASSERT_EQ(ret, SECCOMP_RET_ALLOW) << SyscallName(nr) << " arg0=" << args[0];
  }
}

TEST(CompiledFilterTest, LaterRulesWinAndArgFiltersDecide) {
  auto f = CompileOrDie(Parse(R"pb(
    default_action: SECCOMP_ACTION_ERRNO
    rules { action: SECCOMP_ACTION_ALLOW syscalls: "@basic-io" }
    rules {
      action: SECCOMP_ACTION_ERRNO
      errno_value: 95
      syscalls: "read"
      args { index: 0 op: OP_EQ value: 5 }
    }
    rules {
      action: SECCOMP_ACTION_LOG
      syscalls: "read"
      args { index: 0 op: OP_EQ value: 5 }
      args { index: 2 op: OP_GT value: 100 }
    }
    rules { action: SECCOMP_ACTION_KILL_PROCESS syscalls: "@mount" }
  )pb"));
  ASSERT_NE(f, nullptr);
  const int read = Nr("read");
  const uint64_t other_fd[6] = {3, 0, 10, 0, 0, 0};
  const uint64_t fd5_small[6] = {5, 0, 10, 0, 0, 0};
  const uint64_t fd5_big[6] = {5, 0, 4096, 0, 0, 0};
  EXPECT_EQ(f->Decide(read, other_fd).kind, Decision::kAllow);
  EXPECT_EQ(f->Decide(read, other_fd).rule, "rule 0 (@basic-io)");
  const Decision d = f->Decide(read, fd5_small);
  EXPECT_EQ(d.kind, Decision::kErrno);
  EXPECT_EQ(d.errno_value, 95);
  EXPECT_EQ(d.rule, "rule 1 (read)");
  EXPECT_EQ(CompiledFilter::DescribeAction(d), "errno EOPNOTSUPP");
  EXPECT_EQ(f->Decide(read, fd5_big).kind, Decision::kLog);
  EXPECT_EQ(f->Decide(read, fd5_big).rule, "rule 2 (read)");
  const Decision mount = f->Decide(Nr("mount"), kNoArgs);
  EXPECT_EQ(mount.kind, Decision::kKill);
  EXPECT_EQ(mount.rule, "rule 3 (@mount)");
  const Decision ptrace = f->Decide(Nr("ptrace"), kNoArgs);
  EXPECT_EQ(ptrace.kind, Decision::kErrno);
  EXPECT_EQ(ptrace.errno_value, EPERM);
  EXPECT_EQ(ptrace.rule, "default action of the profile");
  for (const uint64_t* args : {other_fd, fd5_small, fd5_big}) {
    ExpectProgramAgrees(*f, read, args, /*exact=*/true);
  }
}

TEST(CompiledFilterTest, TheDefaultProfileFiltersCloneFlagsSocketFamiliesAndClone3) {
  auto f = Builtin("default");
  ASSERT_NE(f, nullptr);
  const uint64_t plain_fork[6] = {SIGCHLD, 0, 0, 0, 0, 0};
  const uint64_t new_user[6] = {0x10000000 | SIGCHLD, 0, 0, 0, 0, 0};
  EXPECT_EQ(f->Decide(Nr("clone"), plain_fork).kind, Decision::kAllow);
  const Decision ns = f->Decide(Nr("clone"), new_user);
  EXPECT_EQ(ns.kind, Decision::kErrno);
  EXPECT_THAT(ns.rule, HasSubstr("(clone)"));
  const Decision clone3 = f->Decide(Nr("clone3"), kNoArgs);
  EXPECT_EQ(clone3.kind, Decision::kErrno);
  EXPECT_EQ(clone3.errno_value, ENOSYS);
  const uint64_t vsock[6] = {40, 1, 0, 0, 0, 0};
  const uint64_t inet[6] = {2, 1, 0, 0, 0, 0};
  EXPECT_EQ(f->Decide(Nr("socket"), vsock).kind, Decision::kErrno);
  EXPECT_EQ(f->Decide(Nr("socket"), inet).kind, Decision::kAllow);
  const Decision unshare = f->Decide(Nr("unshare"), kNoArgs);
  EXPECT_EQ(unshare.kind, Decision::kErrno);
  EXPECT_EQ(unshare.rule, "default action of profile default");
  for (const uint64_t* args : {plain_fork, new_user, vsock, inet}) {
    ExpectProgramAgrees(*f, Nr("clone"), args, true);
    ExpectProgramAgrees(*f, Nr("socket"), args, true);
    ExpectProgramAgrees(*f, Nr("personality"), args, true);
  }
}

TEST(CompiledFilterTest, BuiltinProgramsAreExactForEverySyscall) {
  std::mt19937_64 gen(7);
  for (const char* name : {"default", "strict"}) {
    auto f = Builtin(name);
    ASSERT_NE(f, nullptr);
    for (int nr = 0; nr < 1024; ++nr) {
      // "ioctl unless its 32-bit request is TIOCSTI or TIOCLINUX" has no exact libseccomp
      // form (no masked not-equal): every ioctl is notified and decided in user space.
      const bool exact = nr != Nr("ioctl");
      for (int i = 0; i < 4; ++i) {
        uint64_t args[6];
        for (uint64_t& a : args) a = i == 0 ? 0 : (i == 1 ? gen() : gen() % 64);
        ExpectProgramAgrees(*f, nr, args, exact);
      }
    }
  }
}

TEST(CompiledFilterTest, LauncherNeedsWinOverTheProfile) {
  auto f = CompileOrDie(Parse(R"pb(
    default_action: SECCOMP_ACTION_ALLOW
    rules {
      action: SECCOMP_ACTION_KILL_PROCESS
      syscalls: [ "sendmsg", "execve", "exit_group" ]
    }
  )pb"));
  ASSERT_NE(f, nullptr);
  const uint64_t launcher[6] = {kLauncherFd, 0, 0, 0, 0, 0};
  const uint64_t other[6] = {3, 0, 0, 0, 0, 0};
  const uint64_t high_bits[6] = {(1ull << 32) | kLauncherFd, 0, 0, 0, 0, 0};
  EXPECT_EQ(f->Decide(Nr("sendmsg"), launcher).kind, Decision::kAllow);
  EXPECT_EQ(f->Decide(Nr("sendmsg"), launcher).rule, "launcher");
  EXPECT_EQ(f->Decide(Nr("sendmsg"), other).kind, Decision::kKill);
  EXPECT_EQ(f->Decide(Nr("sendmsg"), high_bits).kind, Decision::kKill);
  EXPECT_EQ(f->Decide(Nr("execve"), other).kind, Decision::kAllow);
  EXPECT_EQ(f->Decide(Nr("exit_group"), other).kind, Decision::kAllow);
  EXPECT_EQ(f->Decide(Nr("execveat"), other).kind, Decision::kAllow);  // Default: ALLOW.
  for (const uint64_t* args : {launcher, other, high_bits}) {
    ExpectProgramAgrees(*f, Nr("sendmsg"), args, true);
    EXPECT_EQ(RunProgram(*f, Nr("execve"), args), SECCOMP_RET_ALLOW);
  }
  EXPECT_EQ(RunProgram(*f, Nr("getpid"), other), SECCOMP_RET_ALLOW);
}

// sd_notify(3) under strict: an AF_UNIX datagram socket, connect, send; nothing else.
TEST(CompiledFilterTest, StrictAllowsOnlyUnixDatagramSocketsForSdNotify) {
  auto f = Builtin("strict");
  ASSERT_NE(f, nullptr);
  const uint64_t unix_dgram[6] = {AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, 0, 0};
  const uint64_t unix_dgram_nonblock[6] = {AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, 0, 0, 0};
  EXPECT_EQ(f->Decide(Nr("socket"), unix_dgram).kind, Decision::kAllow);
  EXPECT_EQ(f->Decide(Nr("socket"), unix_dgram_nonblock).kind, Decision::kAllow);
  ExpectProgramAgrees(*f, Nr("socket"), unix_dgram, true);
  const uint64_t refused[][6] = {
      {AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0, 0},  // nscd, dbus, docker.sock...
      {AF_UNIX, SOCK_SEQPACKET, 0, 0, 0, 0},
      {AF_INET, SOCK_DGRAM, 0, 0, 0, 0},
      {AF_INET6, SOCK_DGRAM, 0, 0, 0, 0},
      {AF_NETLINK, SOCK_DGRAM, 0, 0, 0, 0},
      {AF_UNIX | (1ull << 32), SOCK_DGRAM, 0, 0, 0, 0},  // Junk in the upper bits: refused.
  };
  for (const uint64_t* args : refused) {
    EXPECT_EQ(f->Decide(Nr("socket"), args).kind, Decision::kErrno) << args[0] << " " << args[1];
    ExpectProgramAgrees(*f, Nr("socket"), args, true);
  }
  for (const char* name : {"connect", "sendto", "sendmsg"}) {
    EXPECT_EQ(f->Decide(Nr(name), kNoArgs).kind, Decision::kAllow) << name;
    ExpectProgramAgrees(*f, Nr(name), kNoArgs, true);
  }
  for (const char* name : {"socketpair", "bind", "listen", "accept4", "recvmsg", "recvfrom", "sendmmsg"}) {
    EXPECT_EQ(f->Decide(Nr(name), kNoArgs).kind, Decision::kErrno) << name;
  }
}

// What libsystemd's sd_notify and systemd's cap_last_cap probe need beyond the socket:
// SO_SNDBUF(FORCE) and reads of its own capability state, each with exactly those
// arguments.
TEST(CompiledFilterTest, StrictAllowsOnlyTheSendBufferOptionAndCapabilityStateReads) {
  auto f = Builtin("strict");
  ASSERT_NE(f, nullptr);
  const uint64_t sndbuf[6] = {3, SOL_SOCKET, SO_SNDBUF, 0, 0, 0};
  const uint64_t sndbufforce[6] = {3, SOL_SOCKET, SO_SNDBUFFORCE, 0, 0, 0};
  const uint64_t capbset_read[6] = {PR_CAPBSET_READ, 12, 0, 0, 0, 0};
  EXPECT_EQ(f->Decide(Nr("getsockopt"), sndbuf).kind, Decision::kAllow);
  EXPECT_EQ(f->Decide(Nr("setsockopt"), sndbuf).kind, Decision::kAllow);
  EXPECT_EQ(f->Decide(Nr("setsockopt"), sndbufforce).kind, Decision::kAllow);
  EXPECT_EQ(f->Decide(Nr("prctl"), capbset_read).kind, Decision::kAllow);
  for (uint64_t option : {PR_GET_SECUREBITS, PR_GET_NO_NEW_PRIVS}) {
    const uint64_t args[6] = {option, 0, 0, 0, 0, 0};
    EXPECT_EQ(f->Decide(Nr("prctl"), args).kind, Decision::kAllow) << option;
    ExpectProgramAgrees(*f, Nr("prctl"), args, true);
  }
  const uint64_t ambient_is_set[6] = {PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 10, 0, 0, 0};
  EXPECT_EQ(f->Decide(Nr("prctl"), ambient_is_set).kind, Decision::kAllow);
  const uint64_t ambient_raise[6] = {PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 10, 0, 0, 0};
  EXPECT_EQ(f->Decide(Nr("prctl"), ambient_raise).kind, Decision::kErrno);
  ExpectProgramAgrees(*f, Nr("prctl"), ambient_raise, true);
  ExpectProgramAgrees(*f, Nr("setsockopt"), sndbuf, true);
  ExpectProgramAgrees(*f, Nr("prctl"), capbset_read, true);
  const uint64_t other_opts[][6] = {
      {3, SOL_SOCKET, SO_PASSCRED, 0, 0, 0},
      {3, SOL_SOCKET, SO_BINDTODEVICE, 0, 0, 0},
      {3, 0 /* SOL_IP */, SO_SNDBUF, 0, 0, 0},  // Same number, another level.
  };
  for (const uint64_t* args : other_opts) {
    EXPECT_EQ(f->Decide(Nr("setsockopt"), args).kind, Decision::kErrno) << args[1] << " " << args[2];
    ExpectProgramAgrees(*f, Nr("setsockopt"), args, true);
  }
  const uint64_t getsockopt_force[6] = {3, SOL_SOCKET, SO_SNDBUFFORCE, 0, 0, 0};
  EXPECT_EQ(f->Decide(Nr("getsockopt"), getsockopt_force).kind, Decision::kErrno);
  for (uint64_t option : {PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_SET_SECUREBITS,
                          PR_SET_MM, PR_SET_PDEATHSIG}) {
    const uint64_t args[6] = {option, 0, 0, 0, 0, 0};
    EXPECT_EQ(f->Decide(Nr("prctl"), args).kind, Decision::kErrno) << option;
    ExpectProgramAgrees(*f, Nr("prctl"), args, true);
  }
}

TEST(CompiledFilterTest, UnknownNumbersAreEnosysUnlessTheDefaultAllows) {
  auto deny = Builtin("strict");
  ASSERT_NE(deny, nullptr);
  const Decision d = deny->Decide(1023, kNoArgs);
  EXPECT_EQ(d.kind, Decision::kEnosys);
  EXPECT_EQ(d.errno_value, ENOSYS);
  EXPECT_EQ(d.rule, "default action of profile strict");
  EXPECT_EQ(CompiledFilter::DescribeAction(d), "ENOSYS (unknown to the profile)");
  EXPECT_EQ(deny->SyscallName(1023), "syscall_1023");
  EXPECT_EQ(RunProgram(*deny, 1023, kNoArgs), SECCOMP_RET_USER_NOTIF);
  EXPECT_EQ(deny->Decide(-1, kNoArgs).kind, Decision::kEnosys);
  auto allow = CompileOrDie(Parse(R"pb(default_action: SECCOMP_ACTION_ALLOW)pb"));
  ASSERT_NE(allow, nullptr);
  EXPECT_EQ(allow->Decide(1023, kNoArgs).kind, Decision::kAllow);
  EXPECT_EQ(RunProgram(*allow, 1023, kNoArgs), SECCOMP_RET_ALLOW);
}

TEST(CompiledFilterTest, OtherArchitecturesAndX32NumbersAreKilled) {
  for (const char* name : {"default", "strict"}) {
    auto f = Builtin(name);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(RunProgram(*f, 20, kNoArgs, AUDIT_ARCH_I386), SECCOMP_RET_KILL_PROCESS);
    EXPECT_EQ(RunProgram(*f, 39 | 0x40000000, kNoArgs), SECCOMP_RET_KILL_PROCESS);
    EXPECT_EQ(RunProgram(*f, 0x40000000, kNoArgs), SECCOMP_RET_KILL_PROCESS);
    EXPECT_EQ(RunProgram(*f, 39, kNoArgs), SECCOMP_RET_ALLOW);
  }
}

TEST(CompiledFilterTest, UnconfinedHasNoProgramButLearningAlwaysHasOne) {
  v1::SeccompProfile p;
  p.set_base("unconfined");
  auto f = CompileOrDie(p);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->program(), nullptr);
  EXPECT_EQ(f->Decide(Nr("mount"), kNoArgs).kind, Decision::kAllow);
  auto learn = CompileOrDie(p, /*learn=*/true);
  ASSERT_NE(learn, nullptr);
  ASSERT_NE(learn->program(), nullptr);
  EXPECT_TRUE(learn->learning());
  EXPECT_EQ(RunProgram(*learn, Nr("mount"), kNoArgs), SECCOMP_RET_USER_NOTIF);
  EXPECT_EQ(RunProgram(*learn, Nr("getpid"), kNoArgs), SECCOMP_RET_USER_NOTIF);
  EXPECT_EQ(RunProgram(*learn, Nr("execve"), kNoArgs), SECCOMP_RET_ALLOW);
  const uint64_t launcher[6] = {kLauncherFd, 0, 0, 0, 0, 0};
  EXPECT_EQ(RunProgram(*learn, Nr("sendmsg"), launcher), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunProgram(*learn, Nr("sendmsg"), kNoArgs), SECCOMP_RET_USER_NOTIF);
}

TEST(CompiledFilterTest, CompileRefusesBadInput) {
  EXPECT_EQ(
      CompiledFilter::Compile(Parse(R"pb(base: "defualt")pb"), false, kLauncherFd).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompiledFilter::Compile(Parse(R"pb(base: "default")pb"), false, -1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CompiledFilterTest, LearnedProfileAllowsExactlyWhatWasUsed) {
  const std::set<int> used = {Nr("read"), Nr("brk"), Nr("mmap"), 1023};
  auto f = CompileOrDie(LearnedProfile(used));
  ASSERT_NE(f, nullptr);
  for (int nr = 0; nr < 1024; ++nr) {
    const Decision d = f->Decide(nr, kNoArgs);
    const bool always = nr == Nr("execve") || nr == Nr("exit") || nr == Nr("exit_group") ||
                        nr == Nr("rt_sigreturn");
    const bool expected = always || (used.count(nr) > 0 && nr != 1023);
    EXPECT_EQ(d.kind == Decision::kAllow, expected) << SyscallName(nr);
    ExpectProgramAgrees(*f, nr, kNoArgs, true);
  }
}

// Random profiles over a few syscalls and two arguments, so that rules overlap, collide on
// the same argument and need negations: the program must never allow what Decide refuses.
TEST(CompiledFilterTest, RandomProfilesNeverAllowWhatDecideRefuses) {
  std::mt19937_64 gen(11);
  auto below = [&](uint64_t n) { return gen() % n; };
  const uint64_t pool[] = {0, 1, 2, 5, 40, kLauncherFd, 0xffffffff, 1ull << 32, 0x7e020000};
  auto value = [&] { return below(4) == 0 ? gen() : pool[below(std::size(pool))]; };
  const char* names[] = {"read", "ioctl", "sendmsg", "personality", "clone"};
  int exact = 0, total = 0;
  for (int round = 0; round < 300; ++round) {
    v1::SeccompProfile p;
    p.set_default_action(static_cast<v1::SeccompAction>(1 + below(4)));
    for (uint64_t n = 1 + below(6); n > 0; --n) {
      v1::SeccompRule* r = p.add_rules();
      r->set_action(static_cast<v1::SeccompAction>(1 + below(4)));
      r->add_syscalls(names[below(std::size(names))]);
      for (uint64_t a = below(3); a > 0; --a) {
        v1::ArgFilter* arg = r->add_args();
        arg->set_index(below(2));
        arg->set_op(static_cast<v1::ArgFilter::Op>(1 + below(7)));
        arg->set_value(value());
        if (arg->op() == v1::ArgFilter::OP_MASKED_EQ) arg->set_value_two(value() & arg->value());
      }
    }
    auto f = CompileOrDie(p);
    ASSERT_NE(f, nullptr) << p.DebugString();
    SCOPED_TRACE(p.DebugString());
    for (const char* name : names) {
      for (int i = 0; i < 40; ++i) {
        const uint64_t args[6] = {value(), value(), 0, 0, 0, 0};
        ExpectProgramAgrees(*f, Nr(name), args, /*exact=*/false);
        if (f->Decide(Nr(name), args).kind == Decision::kAllow) {
          ++total;
          exact += RunProgram(*f, Nr(name), args) == SECCOMP_RET_ALLOW;
        }
      }
    }
  }
  // Precision is lost only where libseccomp cannot say it (two comparisons of one argument).
  EXPECT_GT(exact, total * 9 / 10) << exact << " of " << total;
}

}  // namespace
}  // namespace secureos::sandboxd
