#include "sandboxd/seccomp/syscall_groups.h"

#include <algorithm>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandboxd/seccomp/syscall_names.h"

namespace secureos::sandboxd {
namespace {

using ::testing::Contains;
using ::testing::IsSupersetOf;
using ::testing::Not;

TEST(SyscallGroupsTest, EveryMemberIsAnX86_64SyscallLibseccompKnows) {
  for (const SyscallGroup& g : SyscallGroups()) {
    EXPECT_FALSE(g.syscalls.empty()) << g.name;
    EXPECT_FALSE(g.description.empty()) << g.name;
    for (const std::string& name : g.syscalls) {
      int nr = -1;
      EXPECT_EQ(LookUpSyscall(name, &nr), SyscallLookup::kFound) << g.name << ": " << name;
      EXPECT_GE(nr, 0) << name;
      EXPECT_EQ(SyscallName(nr), name);
    }
  }
}

TEST(SyscallGroupsTest, GroupsAreSortedUniqueAndMembersSortedUnique) {
  const auto& groups = SyscallGroups();
  for (size_t i = 1; i < groups.size(); ++i) EXPECT_LT(groups[i - 1].name, groups[i].name);
  for (const SyscallGroup& g : groups) {
    EXPECT_EQ(g.name[0], '@');
    EXPECT_TRUE(std::is_sorted(g.syscalls.begin(), g.syscalls.end())) << g.name;
    EXPECT_EQ(std::set<std::string>(g.syscalls.begin(), g.syscalls.end()).size(), g.syscalls.size())
        << g.name;
  }
}

TEST(SyscallGroupsTest, HasTheSystemdStyleGroupsSandboxdDocuments) {
  for (const char* name :
       {"@network-io", "@mount",   "@privileged", "@process", "@file-system", "@basic-io",
        "@io-event",   "@ipc",     "@signal",     "@timer",   "@memory",      "@module",
        "@raw-io",     "@reboot",  "@swap",       "@clock",   "@debug",       "@cpu-emulation",
        "@obsolete",   "@keyring", "@sandbox"}) {
    EXPECT_NE(FindSyscallGroup(name), nullptr) << name;
  }
  EXPECT_EQ(FindSyscallGroup("@nonsense"), nullptr);
  EXPECT_EQ(FindSyscallGroup("mount"), nullptr);
}

TEST(SyscallGroupsTest, MembersAreWhereTheNameSaysTheyAre) {
  EXPECT_THAT(FindSyscallGroup("@mount")->syscalls,
              IsSupersetOf({"mount", "umount2", "pivot_root", "fsmount", "move_mount"}));
  EXPECT_THAT(FindSyscallGroup("@network-io")->syscalls,
              IsSupersetOf({"socket", "connect", "sendmsg", "recvmsg"}));
  EXPECT_THAT(FindSyscallGroup("@debug")->syscalls, Contains("ptrace"));
  EXPECT_THAT(FindSyscallGroup("@file-system")->syscalls, Not(Contains("mount")));
  EXPECT_THAT(FindSyscallGroup("@process")->syscalls, Not(Contains("unshare")));
}

TEST(SyscallGroupsTest, PrivilegedExpandsTheGroupsItNames) {
  const std::vector<std::string>& privileged = FindSyscallGroup("@privileged")->syscalls;
  for (const char* included : {"@mount", "@module", "@reboot", "@swap", "@clock", "@raw-io",
                               "@namespace", "@setuid", "@chown", "@keyring"}) {
    EXPECT_THAT(privileged, IsSupersetOf(FindSyscallGroup(included)->syscalls)) << included;
  }
  EXPECT_THAT(privileged, IsSupersetOf({"bpf", "acct", "sethostname"}));
  EXPECT_THAT(privileged, Not(Contains("read")));
}

TEST(SyscallGroupsTest, NamesListEveryGroup) {
  const std::string names = SyscallGroupNames();
  for (const SyscallGroup& g : SyscallGroups()) EXPECT_NE(names.find(g.name), std::string::npos);
}

TEST(SyscallNamesTest, LookUpDistinguishesUnknownFromOtherArchitectures) {
  int nr = -1;
  EXPECT_EQ(LookUpSyscall("openat", &nr), SyscallLookup::kFound);
  EXPECT_EQ(nr, 257);
  EXPECT_EQ(LookUpSyscall("opn", &nr), SyscallLookup::kUnknown);
  EXPECT_EQ(LookUpSyscall("chown32", &nr), SyscallLookup::kOtherArch);
  EXPECT_EQ(LookUpSyscall("socketcall", &nr), SyscallLookup::kOtherArch);
}

TEST(SyscallNamesTest, NumbersWithoutANameGetAPlaceholder) {
  EXPECT_EQ(SyscallName(101), "ptrace");
  EXPECT_EQ(SyscallName(1023), "syscall_1023");
  EXPECT_EQ(SyscallNameOrEmpty(1023), "");
  EXPECT_EQ(SyscallNameOrEmpty(-1), "");
}

}  // namespace
}  // namespace secureos::sandboxd
