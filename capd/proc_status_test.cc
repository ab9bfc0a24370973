#include "capd/proc_status.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace secureos::capd {
namespace {

constexpr char kStatus[] =
    "Name:\tweb server\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\n"
    "Uid:\t1000\t1001\t1002\t1003\nGid:\t100\t101\t102\t103\nGroups:\t4 27 100 \n"
    "CapInh:\t0000000000000400\nCapPrm:\t0000000000000420\nCapEff:\t0000000000000020\n"
    "CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000400\nNoNewPrivs:\t1\nSeccomp:\t2\n"
    "Seccomp_filters:\t1\n";

TEST(ProcStatusTest, ParsesEveryPrivilegeLine) {
  auto s = ParseProcStatus(kStatus);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->pid, 4242);
  EXPECT_EQ(s->name, "web server");
  EXPECT_EQ(s->uids, (std::array<uid_t, 4>{1000, 1001, 1002, 1003}));
  EXPECT_EQ(s->gids, (std::array<gid_t, 4>{100, 101, 102, 103}));
  EXPECT_EQ(s->groups, (std::vector<gid_t>{4, 27, 100}));
  EXPECT_EQ(s->inheritable.ToString(), "cap_net_bind_service");
  EXPECT_EQ(s->permitted.ToString(), "cap_kill,cap_net_bind_service");
  EXPECT_EQ(s->effective.ToString(), "cap_kill");
  EXPECT_EQ(s->ambient.ToString(), "cap_net_bind_service");
  EXPECT_EQ(s->bounding.Hex(), "000001ffffffffff");
  EXPECT_TRUE(s->no_new_privs);
  EXPECT_EQ(s->seccomp, 2);
}

TEST(ProcStatusTest, RefusesTextWithoutCapabilities) {
  EXPECT_FALSE(ParseProcStatus("Name:\tx\n").ok());
  EXPECT_FALSE(ParseProcStatus("Name:\tx\nCapEff:\tzz\n").ok());
}


TEST(ProcStatusTest, ReadsThisProcessAsTheKernelSeesIt) {
  auto s = ReadProcStatus(::getpid());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->pid, ::getpid());
  EXPECT_EQ(s->uids[0], ::getuid());
  EXPECT_EQ(s->no_new_privs, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
  EXPECT_GT(s->start_time, 0u);
  EXPECT_EQ(*ReadStartTime(::getpid()), s->start_time);
  EXPECT_EQ(ReadProcStatus(0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadProcStatus(0x3fffffff).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace secureos::capd
