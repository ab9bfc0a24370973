// The launcher alone, without sandboxd: real namespaces, so it runs as root (local).
#include "sandboxd/launcher.h"

#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::sandboxd {
namespace {

using ::testing::HasSubstr;

LaunchPlan Plan(std::vector<std::string> argv) {
  LaunchPlan p;
  p.clone_flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS |
                  CLONE_NEWIPC;
  p.uid_map = "0 65534 1\n";
  p.gid_map = "0 65534 1\n";
  p.hostname = "probe";
  p.launcher_fd = 1024;
  p.rlimits.push_back({RLIMIT_NOFILE, rlimit{256, 1024}});
  p.argv = std::move(argv);
  EXPECT_TRUE(OpenStreamedStdio(&p.stdio).ok());
  return p;
}

std::string ReadAllOf(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 5000) <= 0) break;
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, n);
  }
  return out;
}

int WaitExit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(LauncherTest, TheChildIsPidOneNobodyWithNoCapabilitiesAndItsOwnHostname) {
  LaunchPlan p = Plan({"/bin/sh", "-c",
                       "echo $$ $(hostname) $(id -u) $(grep CapEff /proc/self/status | cut -f2) "
                       "$(grep NoNewPrivs /proc/self/status | cut -f2)"});
  absl::StatusOr<LaunchedWorkload> w = Launch(p, nullptr);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_FALSE(w->seccomp_listener.valid());  // No filter in this plan.
  // $$ is 1 only with a pid namespace; /proc here is the host's, so only pids and ids.
  const std::string out = ReadAllOf(w->stdout_read.get());
  EXPECT_EQ(WaitExit(w->pid), 0);
  EXPECT_EQ(out, "1 probe 0 0000000000000000 1\n");
}

// Level 3: no user namespace, launched by a daemon without CAP_SETPCAP (as sandboxd runs).
TEST(LauncherTest, WithoutAUserNamespaceOrCapSetpcapTheChildStillEndsWithNoCapabilities) {
  LaunchPlan p = Plan({"/bin/sh", "-c",
                       "echo $$ $(id -u) $(id -g) $(grep -E 'CapEff|CapPrm|CapAmb|CapInh|NoNewPrivs' "
                       "/proc/self/status | cut -f2)"});
  p.clone_flags = CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
  p.uid = 65534;
  p.gid = 65534;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct saved[2] = {};
  ASSERT_EQ(::syscall(SYS_capget, &header, saved), 0);
  __user_cap_data_struct without[2] = {saved[0], saved[1]};
  without[CAP_TO_INDEX(CAP_SETPCAP)].effective &= ~CAP_TO_MASK(CAP_SETPCAP);
  // This thread's effective set is what the child starts with; restored right after.
  ASSERT_EQ(::syscall(SYS_capset, &header, without), 0);
  absl::StatusOr<LaunchedWorkload> w = Launch(p, nullptr);
  ASSERT_EQ(::syscall(SYS_capset, &header, saved), 0);
  ASSERT_TRUE(w.ok()) << w.status();
  const std::string out = ReadAllOf(w->stdout_read.get());
  EXPECT_EQ(WaitExit(w->pid), 0);
  // Inheritable, permitted, effective, ambient (status order), then no_new_privs.
  EXPECT_EQ(out, "1 65534 65534 0000000000000000 0000000000000000 0000000000000000 "
                 "0000000000000000 1\n");
}

TEST(LauncherTest, AMissingProgramIsTheRequestsErrorAndNothingRuns) {
  LaunchPlan p = Plan({"/nonexistent/prog"});
  absl::StatusOr<LaunchedWorkload> w = Launch(p, nullptr);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(w.status().message(), HasSubstr("argv[0]: execve /nonexistent/prog: No such file"));
}

TEST(LauncherTest, ABeforeStartErrorKillsTheChildAndIsReturned) {
  LaunchPlan p = Plan({"/bin/true"});
  pid_t seen = -1;
  absl::StatusOr<LaunchedWorkload> w = Launch(p, [&](pid_t pid) {
    seen = pid;
    return absl::UnavailableError("no cgroup today");
  });
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("no cgroup today"));
  ASSERT_GT(seen, 0);
  EXPECT_NE(::kill(seen, 0), 0);  // Reaped: gone.
}

TEST(LauncherTest, OnlyStdioSurvivesExec) {
  LaunchPlan p = Plan({"/bin/ls", "/proc/self/fd"});
  absl::StatusOr<LaunchedWorkload> w = Launch(p, nullptr);
  ASSERT_TRUE(w.ok()) << w.status();
  const std::string out = ReadAllOf(w->stdout_read.get());
  EXPECT_EQ(WaitExit(w->pid), 0);
  EXPECT_EQ(out, "0\n1\n2\n3\n");  // 3 is ls's own directory fd.
}

TEST(LauncherTest, EveryNamespaceIncludingTimeIsNew) {
  LaunchPlan p = Plan({"/bin/sh", "-c", "readlink /proc/self/ns/time /proc/self/ns/cgroup /proc/self/ns/ipc"});
  p.clone_flags |= CLONE_NEWTIME | CLONE_NEWCGROUP;
  absl::StatusOr<LaunchedWorkload> w = Launch(p, nullptr);
  ASSERT_TRUE(w.ok()) << w.status();
  const std::string out = ReadAllOf(w->stdout_read.get());
  EXPECT_EQ(WaitExit(w->pid), 0);
  char self[3][64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/time", self[0], sizeof(self[0])), 0);
  ASSERT_GT(::readlink("/proc/self/ns/cgroup", self[1], sizeof(self[1])), 0);
  ASSERT_GT(::readlink("/proc/self/ns/ipc", self[2], sizeof(self[2])), 0);
  for (const char* mine : self) EXPECT_THAT(out, ::testing::Not(HasSubstr(mine))) << out;
  EXPECT_THAT(out, HasSubstr("time:["));
}

}  // namespace
}  // namespace secureos::sandboxd
