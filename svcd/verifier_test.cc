#include "svcd/verifier.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/cap_set.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace secureos::svcd {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr pid_t kPid = 4242;

// What /proc, capd and the cgroup filesystems say, canned.
class FakeInspector : public ProcessInspector {
 public:
  absl::StatusOr<capd::v1::ProcessCapabilities> caps = absl::UnavailableError("capd: no answer set");
  std::map<std::pair<pid_t, std::string>, std::string> proc;
  std::map<std::pair<pid_t, std::string>, uint64_t> ns;
  std::map<std::string, std::string> files;
  std::set<std::string> denied;     // File() answers PERMISSION_DENIED.
  std::vector<std::string> read;    // Every path File() was asked for.

  absl::StatusOr<capd::v1::ProcessCapabilities> Capabilities(pid_t) override { return caps; }

  absl::StatusOr<std::string> ProcFile(pid_t pid, const std::string& name) override {
    auto it = proc.find({pid, name});
    if (it == proc.end()) return absl::NotFoundError(absl::StrCat("open /proc/", pid, "/", name));
    return it->second;
  }

  absl::StatusOr<uint64_t> NamespaceInode(pid_t pid, const std::string& name) override {
    auto it = ns.find({pid, name});
    if (it == ns.end()) return absl::NotFoundError(absl::StrCat("stat /proc/", pid, "/ns/", name));
    return it->second;
  }

  absl::StatusOr<std::string> File(const std::string& path) override {
    read.push_back(path);
    if (denied.count(path)) return absl::PermissionDeniedError(absl::StrCat("open ", path, ": Permission denied"));
    auto it = files.find(path);
    if (it == files.end()) return absl::NotFoundError(absl::StrCat("open ", path, ": No such file or directory"));
    return it->second;
  }
};

capd::v1::CapabilitySet CapsProto(const CapSet& set) {
  capd::v1::CapabilitySet p;
  for (const std::string& n : set.Names()) p.add_names(n);
  p.set_hex(set.Hex());
  return p;
}

// A process as capd's spawner leaves it: `set` in all five sets, no_new_privs.
capd::v1::ProcessCapabilities Spawned(const CapSet& set) {
  capd::v1::ProcessCapabilities p;
  p.set_pid(kPid);
  *p.mutable_effective() = CapsProto(set);
  *p.mutable_permitted() = CapsProto(set);
  *p.mutable_inheritable() = CapsProto(set);
  *p.mutable_bounding() = CapsProto(set);
  *p.mutable_ambient() = CapsProto(set);
  p.set_no_new_privs(true);
  return p;
}

CapSet Caps(const std::string& text) {
  absl::StatusOr<CapSet> c = CapSet::Parse(text);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : CapSet();
}

std::string Status(uid_t uid, int seccomp) {
  return absl::StrCat("Name:\tserver\nState:\tS (sleeping)\nUid:\t", uid, "\t", uid, "\t", uid, "\t", uid,
                      "\nGid:\t65534\t65534\t65534\t65534\nNoNewPrivs:\t1\nSeccomp:\t", seccomp,
                      "\nSeccomp_filters:\t", seccomp == 2 ? 1 : 0, "\n");
}

// v1 host, cpu and cpuacct co-mounted (as in cgroup_layout_test.cc).
constexpr char kV1Mountinfo[] =
    "18 62 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw\n"
    "24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:7 - tmpfs tmpfs ro,mode=755\n"
    "28 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - "
    "cgroup cgroup rw,cpu,cpuacct\n"
    "29 24 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup "
    "cgroup rw,memory\n"
    "30 24 0:26 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:13 - cgroup "
    "cgroup rw,pids\n"
    "62 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n";

// Pure v2 host.
constexpr char kV2Mountinfo[] =
    "22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "26 22 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 "
    "cgroup2 rw,nsdelegate,memory_recursiveprot\n"
    "28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n";

// The same host seen from a level-2 service's mount namespace: everything copied (new ids),
// /usr bound read-only onto itself, a fresh tmpfs on /tmp.
constexpr char kV2Level2Mountinfo[] =
    "422 421 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw\n"
    "423 422 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n"
    "421 400 254:1 / / rw,relatime - ext4 /dev/vda1 rw,errors=remount-ro\n"
    "430 421 254:1 /usr /usr ro,relatime - ext4 /dev/vda1 rw,errors=remount-ro\n"
    "431 421 0:88 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw,mode=1777\n";

sandboxd::CgroupLayout Layout(const char* mountinfo) {
  auto layout = sandboxd::CgroupLayout::FromMountinfo(
      mountinfo, [](const std::string& path) -> absl::StatusOr<std::string> {
        if (path == "/sys/fs/cgroup/cgroup.controllers") return std::string("cpuset cpu io memory pids\n");
        return absl::NotFoundError(path);
      });
  EXPECT_TRUE(layout.ok()) << layout.status();
  return layout.ok() ? *layout : sandboxd::CgroupLayout();
}

const v1::Check* Find(const v1::Verification& v, const std::string& name) {
  for (const v1::Check& c : v.checks()) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

std::vector<std::string> Names(const v1::Verification& v) {
  std::vector<std::string> names;
  for (const v1::Check& c : v.checks()) names.push_back(c.name());
  return names;
}

std::vector<std::string> Failed(const v1::Verification& v) {
  std::vector<std::string> names;
  for (const v1::Check& c : v.checks()) {
    if (!c.ok()) names.push_back(c.name());
  }
  return names;
}

#define EXPECT_CHECK(v, name, want_expected, want_actual, want_ok)        \
  do {                                                                    \
    const v1::Check* c_ = Find(v, name);                                  \
    ASSERT_NE(c_, nullptr) << name << " missing";                         \
    EXPECT_EQ(c_->expected(), want_expected) << name;                     \
    EXPECT_EQ(c_->actual(), want_actual) << name;                         \
    EXPECT_EQ(c_->ok(), want_ok) << name;                                 \
  } while (false)

// Level 1, uid 65534 holding cap_net_bind_service, on a v1 host with limits.
class LevelOneV1 : public ::testing::Test {
 protected:
  LevelOneV1() : layout_(Layout(kV1Mountinfo)) {
    expect_.level = 1;
    expect_.caps = Caps("cap_net_bind_service");
    expect_.all_five_sets = true;
    expect_.memory_bytes = 64 << 20;
    expect_.cpu_millis = 500;
    expect_.pids = 64;
    expect_.host_uid = 65534;

    fake_.caps = Spawned(expect_.caps);
    fake_.proc[{kPid, "status"}] = Status(65534, 0);
    fake_.proc[{kPid, "cgroup"}] =
        "12:pids:/secureos/svcd/web\n11:memory:/secureos/svcd/web\n"
        "4:cpu,cpuacct:/secureos/svcd/web\n1:name=systemd:/system.slice/svcd.service\n";
    fake_.files["/sys/fs/cgroup/memory/secureos/svcd/web/memory.limit_in_bytes"] = "67108864\n";
    fake_.files["/sys/fs/cgroup/cpu,cpuacct/secureos/svcd/web/cpu.cfs_quota_us"] = "50000\n";
    fake_.files["/sys/fs/cgroup/cpu,cpuacct/secureos/svcd/web/cpu.cfs_period_us"] = "100000\n";
    fake_.files["/sys/fs/cgroup/pids/secureos/svcd/web/pids.max"] = "64\n";
  }

  v1::Verification Run() { return Verify(kPid, expect_, layout_, fake_); }

  sandboxd::CgroupLayout layout_;
  LevelExpectations expect_;
  FakeInspector fake_;
};

TEST_F(LevelOneV1, MatchingProcessPassesEveryCheck) {
  v1::Verification v = Run();
  EXPECT_TRUE(v.ok()) << DescribeFailures(v);
  EXPECT_EQ(v.pid(), kPid);
  EXPECT_GT(v.time().seconds(), 0);
  EXPECT_EQ(DescribeFailures(v), "");
  EXPECT_EQ(Names(v), (std::vector<std::string>{
                          "capabilities.effective", "capabilities.permitted", "capabilities.inheritable",
                          "capabilities.bounding", "capabilities.ambient", "no_new_privs", "seccomp", "uid",
                          "cgroup.memory", "cgroup.cpu", "cgroup.pids"}));
  EXPECT_CHECK(v, "capabilities.ambient", "cap_net_bind_service", "cap_net_bind_service", true);
  EXPECT_CHECK(v, "no_new_privs", "1", "1", true);
  EXPECT_CHECK(v, "seccomp", "any", "0 (disabled)", true);
  EXPECT_CHECK(v, "uid", "65534", "65534", true);
}

TEST_F(LevelOneV1, ReadsTheLimitFilesOfEachV1Hierarchy) {
  v1::Verification v = Run();
  EXPECT_CHECK(v, "cgroup.memory", "67108864", "67108864", true);
  EXPECT_CHECK(v, "cgroup.cpu", "500 millis", "500 millis (50000/100000 us)", true);
  EXPECT_CHECK(v, "cgroup.pids", "64", "64", true);
  EXPECT_THAT(fake_.read, Contains("/sys/fs/cgroup/cpu,cpuacct/secureos/svcd/web/cpu.cfs_quota_us"));
  EXPECT_THAT(fake_.read, Contains("/sys/fs/cgroup/memory/secureos/svcd/web/memory.limit_in_bytes"));
}

TEST_F(LevelOneV1, CapabilityMismatchShowsBothValues) {
  capd::v1::ProcessCapabilities held = Spawned(expect_.caps);
  *held.mutable_effective() = CapsProto(Caps("cap_net_bind_service,cap_sys_admin"));
  *held.mutable_ambient() = CapsProto(CapSet());
  fake_.caps = held;
  v1::Verification v = Run();
  EXPECT_FALSE(v.ok());
  EXPECT_CHECK(v, "capabilities.effective", "cap_net_bind_service", "cap_net_bind_service,cap_sys_admin", false);
  EXPECT_CHECK(v, "capabilities.ambient", "cap_net_bind_service", "none", false);
  EXPECT_CHECK(v, "capabilities.permitted", "cap_net_bind_service", "cap_net_bind_service", true);
  EXPECT_EQ(DescribeFailures(v),
            "capabilities.effective: expected cap_net_bind_service, got cap_net_bind_service,cap_sys_admin; "
            "capabilities.ambient: expected cap_net_bind_service, got none");
}

TEST_F(LevelOneV1, NoCapabilitiesExpectedReadsNone) {
  expect_.caps = CapSet();
  fake_.caps = Spawned(CapSet());
  v1::Verification v = Run();
  EXPECT_TRUE(v.ok()) << DescribeFailures(v);
  EXPECT_CHECK(v, "capabilities.bounding", "none", "none", true);
}

TEST_F(LevelOneV1, CapdUnreachableFailsItsChecksOnly) {
  fake_.caps = absl::UnavailableError("capd GetProcessCapabilities 4242: connection refused");
  v1::Verification v = Run();
  EXPECT_FALSE(v.ok());
  EXPECT_CHECK(v, "capabilities.effective", "cap_net_bind_service",
               "unreadable: capd GetProcessCapabilities 4242: connection refused", false);
  EXPECT_EQ(Failed(v), (std::vector<std::string>{"capabilities.effective", "capabilities.permitted",
                                                 "capabilities.inheritable", "capabilities.bounding",
                                                 "capabilities.ambient", "no_new_privs"}));
}

TEST_F(LevelOneV1, NoNewPrivsOffFails) {
  capd::v1::ProcessCapabilities held = Spawned(expect_.caps);
  held.set_no_new_privs(false);
  fake_.caps = held;
  v1::Verification v = Run();
  EXPECT_CHECK(v, "no_new_privs", "1", "0", false);
  EXPECT_EQ(Failed(v), std::vector<std::string>{"no_new_privs"});
}

TEST_F(LevelOneV1, WrongUidFails) {
  fake_.proc[{kPid, "status"}] = Status(0, 0);
  v1::Verification v = Run();
  EXPECT_CHECK(v, "uid", "65534", "0", false);
  EXPECT_EQ(Failed(v), std::vector<std::string>{"uid"});
}

TEST_F(LevelOneV1, UnlimitedV1ValuesFailWhenALimitIsExpected) {
  // What v1 shows after writing -1: LONG_MAX rounded down to a page, and quota -1.
  fake_.files["/sys/fs/cgroup/memory/secureos/svcd/web/memory.limit_in_bytes"] = "9223372036854771712\n";
  fake_.files["/sys/fs/cgroup/cpu,cpuacct/secureos/svcd/web/cpu.cfs_quota_us"] = "-1\n";
  v1::Verification v = Run();
  EXPECT_CHECK(v, "cgroup.memory", "67108864", "max", false);
  EXPECT_CHECK(v, "cgroup.cpu", "500 millis", "max", false);
  EXPECT_CHECK(v, "cgroup.pids", "64", "64", true);
}

TEST_F(LevelOneV1, WrongLimitValuesFail) {
  fake_.files["/sys/fs/cgroup/memory/secureos/svcd/web/memory.limit_in_bytes"] = "134217728\n";
  fake_.files["/sys/fs/cgroup/cpu,cpuacct/secureos/svcd/web/cpu.cfs_quota_us"] = "100000\n";
  fake_.files["/sys/fs/cgroup/pids/secureos/svcd/web/pids.max"] = "128\n";
  v1::Verification v = Run();
  EXPECT_CHECK(v, "cgroup.memory", "67108864", "134217728", false);
  EXPECT_CHECK(v, "cgroup.cpu", "500 millis", "1000 millis (100000/100000 us)", false);
  EXPECT_CHECK(v, "cgroup.pids", "64", "128", false);
}

TEST_F(LevelOneV1, UnreadableLimitFileFailsThatCheckOnly) {
  fake_.denied.insert("/sys/fs/cgroup/pids/secureos/svcd/web/pids.max");
  v1::Verification v = Run();
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(Failed(v), std::vector<std::string>{"cgroup.pids"});
  EXPECT_CHECK(v, "cgroup.pids", "64",
               "unreadable: open /sys/fs/cgroup/pids/secureos/svcd/web/pids.max: Permission denied", false);
  EXPECT_EQ(DescribeFailures(v),
            "cgroup.pids: expected 64, got unreadable: open /sys/fs/cgroup/pids/secureos/svcd/web/pids.max: "
            "Permission denied");
}

TEST_F(LevelOneV1, ProcessOutsideTheControllerHierarchyFails) {
  fake_.proc[{kPid, "cgroup"}] = "12:pids:/secureos/svcd/web\n4:cpu,cpuacct:/secureos/svcd/web\n";
  v1::Verification v = Run();
  EXPECT_EQ(Failed(v), std::vector<std::string>{"cgroup.memory"});
  EXPECT_THAT(Find(v, "cgroup.memory")->actual(), StartsWith("unreadable: no memory line"));
}

TEST_F(LevelOneV1, HostWithoutTheControllerFails) {
  layout_ = Layout("62 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n");
  v1::Verification v = Run();
  EXPECT_CHECK(v, "cgroup.pids", "64", "no pids controller on this host", false);
}

TEST_F(LevelOneV1, VanishedProcessFailsWithoutCrashing) {
  fake_.proc.clear();
  fake_.caps = absl::NotFoundError("no process 4242");
  v1::Verification v = Run();
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.checks_size(), 11);
  for (const v1::Check& c : v.checks()) {
    EXPECT_THAT(c.actual(), StartsWith("unreadable: ")) << c.name();
    EXPECT_FALSE(c.ok()) << c.name();
  }
}

// Level 2 on a pure v2 host: own mount namespace, private /tmp, /usr read-only, limits.
class LevelTwoV2 : public ::testing::Test {
 protected:
  LevelTwoV2() : layout_(Layout(kV2Mountinfo)) {
    expect_.level = 2;
    expect_.caps = CapSet();
    expect_.all_five_sets = true;
    expect_.new_namespaces = {"mnt"};
    expect_.private_tmp = true;
    expect_.read_only_mounts = {"/usr"};
    expect_.memory_bytes = 64 << 20;
    expect_.cpu_millis = 250;
    expect_.pids = 512;
    expect_.host_uid = 1000;

    fake_.caps = Spawned(CapSet());
    fake_.proc[{kPid, "status"}] = Status(1000, 0);
    fake_.proc[{kPid, "mountinfo"}] = kV2Level2Mountinfo;
    fake_.proc[{0, "mountinfo"}] = kV2Mountinfo;
    fake_.proc[{kPid, "cgroup"}] = "0::/secureos/svcd/web\n";
    fake_.ns[{kPid, "mnt"}] = 4026532700;
    fake_.ns[{0, "mnt"}] = 4026531841;
    fake_.files["/usr"] = "";  // Exists on the host.
    fake_.files["/sys/fs/cgroup/secureos/svcd/web/memory.max"] = "67108864\n";
    fake_.files["/sys/fs/cgroup/secureos/svcd/web/cpu.max"] = "25000 100000\n";
    fake_.files["/sys/fs/cgroup/secureos/svcd/web/pids.max"] = "512\n";
  }

  v1::Verification Run() { return Verify(kPid, expect_, layout_, fake_); }

  sandboxd::CgroupLayout layout_;
  LevelExpectations expect_;
  FakeInspector fake_;
};

TEST_F(LevelTwoV2, MatchingProcessPasses) {
  v1::Verification v = Run();
  EXPECT_TRUE(v.ok()) << DescribeFailures(v);
  EXPECT_CHECK(v, "namespace.mnt", "own", "own (inode 4026532700)", true);
  EXPECT_CHECK(v, "mount./tmp", "own tmpfs", "tmpfs (device 0:88)", true);
  EXPECT_CHECK(v, "mount./usr", "ro", "ro (mount /usr, ext4)", true);
}

TEST_F(LevelTwoV2, WhatLevelPolicyExpectsOfALevelTwoServiceIsMet) {
  v1::ServiceDefinition def;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      "level: 2 limits { memory_bytes: 67108864 cpu_millis: 250 }", &def));
  expect_ = ExpectationsFor(def, 1000, CapSet());  // pids 512 is the level's default.
  v1::Verification v = Run();
  EXPECT_TRUE(v.ok()) << DescribeFailures(v);
  EXPECT_EQ(Names(v), (std::vector<std::string>{
                          "capabilities.effective", "capabilities.permitted", "capabilities.inheritable",
                          "capabilities.bounding", "capabilities.ambient", "no_new_privs", "seccomp", "uid",
                          "namespace.mnt", "mount./tmp", "mount./usr", "cgroup.memory", "cgroup.cpu",
                          "cgroup.pids"}));
}

TEST_F(LevelTwoV2, ReadsTheV2LimitFiles) {
  v1::Verification v = Run();
  EXPECT_CHECK(v, "cgroup.memory", "67108864", "67108864", true);
  EXPECT_CHECK(v, "cgroup.cpu", "250 millis", "250 millis (25000/100000 us)", true);
  EXPECT_CHECK(v, "cgroup.pids", "512", "512", true);
  EXPECT_THAT(fake_.read, Contains("/sys/fs/cgroup/secureos/svcd/web/cpu.max"));
  EXPECT_THAT(fake_.read, Not(Contains(HasSubstr("cfs_quota_us"))));
}

TEST_F(LevelTwoV2, MaxWhenALimitIsExpectedFails) {
  fake_.files["/sys/fs/cgroup/secureos/svcd/web/memory.max"] = "max\n";
  fake_.files["/sys/fs/cgroup/secureos/svcd/web/cpu.max"] = "max 100000\n";
  fake_.files["/sys/fs/cgroup/secureos/svcd/web/pids.max"] = "max\n";
  v1::Verification v = Run();
  EXPECT_FALSE(v.ok());
  EXPECT_CHECK(v, "cgroup.memory", "67108864", "max", false);
  EXPECT_CHECK(v, "cgroup.cpu", "250 millis", "max", false);
  EXPECT_CHECK(v, "cgroup.pids", "512", "max", false);
  EXPECT_EQ(Failed(v), (std::vector<std::string>{"cgroup.memory", "cgroup.cpu", "cgroup.pids"}));
}

TEST_F(LevelTwoV2, MemoryLimitRoundedDownToAPageMatches) {
  expect_.memory_bytes = (64 << 20) + 100;  // The kernel keeps whole pages.
  v1::Verification v = Run();
  EXPECT_CHECK(v, "cgroup.memory", "67108964", "67108864", true);
}

TEST_F(LevelTwoV2, HostNamespaceFails) {
  fake_.ns[{kPid, "mnt"}] = 4026531841;
  v1::Verification v = Run();
  EXPECT_CHECK(v, "namespace.mnt", "own", "host (inode 4026531841)", false);
  EXPECT_EQ(DescribeFailures(v), "namespace.mnt: expected own, got host (inode 4026531841)");
}

TEST_F(LevelTwoV2, HostsTmpfsCopiedIntoTheNamespaceIsNotPrivate) {
  // The host mounts a tmpfs on /tmp; a mount namespace without a fresh one shows the same
  // device under a new mount id.
  fake_.proc[{0, "mountinfo"}] = std::string(kV2Mountinfo) + "40 28 0:30 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw\n";
  fake_.proc[{kPid, "mountinfo"}] =
      "421 400 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
      "430 421 254:1 /usr /usr ro,relatime - ext4 /dev/vda1 rw\n"
      "431 421 0:30 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw\n";
  v1::Verification v = Run();
  EXPECT_CHECK(v, "mount./tmp", "own tmpfs", "the host's tmpfs (device 0:30)", false);
  EXPECT_EQ(Failed(v), std::vector<std::string>{"mount./tmp"});
}

TEST_F(LevelTwoV2, TmpWithoutAMountOfItsOwnFails) {
  fake_.proc[{kPid, "mountinfo"}] =
      "421 400 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
      "430 421 254:1 /usr /usr ro,relatime - ext4 /dev/vda1 rw\n"
      "432 421 254:1 /tmpfoo /tmpfoo rw,relatime - ext4 /dev/vda1 rw\n";
  v1::Verification v = Run();
  EXPECT_CHECK(v, "mount./tmp", "own tmpfs", "no mount of its own", false);
}

TEST_F(LevelTwoV2, WritableSystemPathFails) {
  fake_.proc[{kPid, "mountinfo"}] =
      "421 400 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
      "431 421 0:88 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw\n";
  v1::Verification v = Run();
  EXPECT_CHECK(v, "mount./usr", "ro", "rw (mount /, ext4)", false);
}

TEST_F(LevelTwoV2, TopmostOfStackedMountsCountsWhateverTheLineOrder) {
  // The host has /usr as its own mount (430); the read-only bind (440) sits on top of it,
  // yet is listed first.
  fake_.proc[{kPid, "mountinfo"}] =
      "440 430 254:2 / /usr ro,relatime - ext4 /dev/vda2 rw\n"
      "421 400 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
      "430 421 254:2 / /usr rw,relatime - ext4 /dev/vda2 rw\n"
      "431 421 0:88 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw\n"
      "450 421 254:1 /usrlocal /usrlocal rw,relatime - ext4 /dev/vda1 rw\n";
  v1::Verification v = Run();
  EXPECT_CHECK(v, "mount./usr", "ro", "ro (mount /usr, ext4)", true);
}

TEST_F(LevelTwoV2, ReadOnlyPathCoveredByAParentMount) {
  expect_.read_only_mounts = {"/usr/lib/", "/"};
  fake_.files["/usr/lib"] = "";
  fake_.files["/"] = "";
  v1::Verification v = Run();
  EXPECT_CHECK(v, "mount./usr/lib", "ro", "ro (mount /usr, ext4)", true);
  EXPECT_CHECK(v, "mount./", "ro", "rw (mount /, ext4)", false);
}

TEST_F(LevelTwoV2, PathTheHostLacksPassesAsAbsent) {
  expect_.read_only_mounts = {"/usr", "/boot"};
  v1::Verification v = Run();
  EXPECT_CHECK(v, "mount./boot", "ro", "absent", true);
  EXPECT_TRUE(v.ok()) << DescribeFailures(v);
}

TEST_F(LevelTwoV2, EscapedMountPointsAreDecoded) {
  expect_.read_only_mounts = {"/srv/my data"};
  fake_.files["/srv/my data"] = "";
  fake_.proc[{kPid, "mountinfo"}] = std::string(kV2Level2Mountinfo) +
                                    "460 421 254:1 /srv/my\\040data /srv/my\\040data ro - ext4 /dev/vda1 rw\n";
  v1::Verification v = Run();
  EXPECT_CHECK(v, "mount./srv/my data", "ro", "ro (mount /srv/my data, ext4)", true);
}

TEST_F(LevelTwoV2, UnreadableMountinfoFailsTheMountChecksOnly) {
  fake_.proc.erase({kPid, "mountinfo"});
  v1::Verification v = Run();
  EXPECT_EQ(Failed(v), (std::vector<std::string>{"mount./tmp", "mount./usr"}));
  EXPECT_THAT(Find(v, "mount./usr")->actual(), StartsWith("unreadable: open /proc/4242/mountinfo"));
}

TEST_F(LevelTwoV2, MalformedMountinfoIsUnreadable) {
  fake_.proc[{kPid, "mountinfo"}] = "garbage\n";
  v1::Verification v = Run();
  EXPECT_THAT(Find(v, "mount./tmp")->actual(), HasSubstr("malformed mountinfo line 1"));
  EXPECT_FALSE(Find(v, "mount./tmp")->ok());
}

// Level 3-like: sandboxd's namespaces and a seccomp filter, no host uid.
class LevelThree : public ::testing::Test {
 protected:
  LevelThree() : layout_(Layout(kV2Mountinfo)) {
    expect_.level = 3;
    expect_.new_namespaces = {"mnt", "pid", "ipc", "uts"};
    expect_.seccomp_filter = true;
    fake_.caps = Spawned(CapSet());
    fake_.proc[{kPid, "status"}] = Status(100000, 2);
    uint64_t inode = 4026532000;
    for (const std::string& ns : expect_.new_namespaces) {
      fake_.ns[{kPid, ns}] = ++inode;
      fake_.ns[{0, ns}] = inode + 1000;
    }
  }

  v1::Verification Run() { return Verify(kPid, expect_, layout_, fake_); }

  sandboxd::CgroupLayout layout_;
  LevelExpectations expect_;
  FakeInspector fake_;
};

TEST_F(LevelThree, FilterAndOwnNamespacesPass) {
  v1::Verification v = Run();
  EXPECT_TRUE(v.ok()) << DescribeFailures(v);
  EXPECT_CHECK(v, "seccomp", "2 (filter)", "2 (filter)", true);
  EXPECT_EQ(Find(v, "uid"), nullptr);  // Not on the host's uids: nothing to compare.
  EXPECT_EQ(Find(v, "capabilities.ambient"), nullptr);
  EXPECT_NE(Find(v, "namespace.uts"), nullptr);
}

TEST_F(LevelThree, NoFilterWhenOneIsExpectedFails) {
  fake_.proc[{kPid, "status"}] = Status(100000, 0);
  v1::Verification v = Run();
  EXPECT_FALSE(v.ok());
  EXPECT_CHECK(v, "seccomp", "2 (filter)", "0 (disabled)", false);
  EXPECT_EQ(DescribeFailures(v), "seccomp: expected 2 (filter), got 0 (disabled)");
}

TEST_F(LevelThree, OneHostNamespaceFailsAlone) {
  fake_.ns[{kPid, "ipc"}] = fake_.ns[{0, "ipc"}];
  v1::Verification v = Run();
  EXPECT_EQ(Failed(v), std::vector<std::string>{"namespace.ipc"});
}

TEST_F(LevelThree, UnreadableNamespaceFails) {
  fake_.ns.erase({0, "uts"});
  v1::Verification v = Run();
  EXPECT_CHECK(v, "namespace.uts", "own", "unreadable: stat /proc/0/ns/uts", false);
}

TEST(Verifier, NoExpectationsLeaveOnlyTheAlwaysReportedChecks) {
  FakeInspector fake;
  fake.caps = Spawned(CapSet());
  fake.proc[{kPid, "status"}] = Status(0, 1);
  LevelExpectations expect;
  expect.no_new_privs = false;
  v1::Verification v = Verify(kPid, expect, sandboxd::CgroupLayout(), fake);
  EXPECT_TRUE(v.ok()) << DescribeFailures(v);
  EXPECT_CHECK(v, "no_new_privs", "any", "1", true);
  EXPECT_CHECK(v, "seccomp", "any", "1 (strict)", true);
  EXPECT_THAT(Failed(v), IsEmpty());
  EXPECT_TRUE(fake.read.empty());  // No cgroup limit expected: no file read.
}

}  // namespace
}  // namespace secureos::svcd
