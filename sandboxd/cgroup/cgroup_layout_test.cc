#include "sandboxd/cgroup/cgroup_layout.h"

#include <map>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::sandboxd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The test machine (Debian 12 guest, kernel 6.18), copied from /proc/self/mountinfo: v1
// hierarchies for every controller (cpu and cpuacct mounted separately) and a cgroup2 mount
// whose cgroup.controllers lists only hugetlb.
constexpr char kHybrid[] =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
    "24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12335016k,nr_inodes=3083754,"
    "mode=755\n"
    "26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,"
    "resgid=65534\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// A systemd host in legacy mode: cpu and cpuacct co-mounted, no cgroup2 at all.
constexpr char kV1Only[] =
    "18 62 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw\n"
    "24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:7 - tmpfs tmpfs ro,mode=755\n"
    "25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:8 - cgroup "
    "cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "28 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - "
    "cgroup cgroup rw,cpu,cpuacct\n"
    "29 24 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup "
    "cgroup rw,memory\n"
    "30 24 0:26 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:13 - cgroup "
    "cgroup rw,pids\n"
    "62 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n";

// A current distribution (Debian 12 with systemd): one cgroup2 mount.
constexpr char kV2Only[] =
    "22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "26 22 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 "
    "cgroup2 rw,nsdelegate,memory_recursiveprot\n"
    "28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n";

// Serves cgroup.controllers files from a map; anything else is NOT_FOUND.
CgroupLayout::FileReader Files(std::map<std::string, std::string> files) {
  return [files](const std::string& path) -> absl::StatusOr<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return absl::NotFoundError(path);
    return it->second;
  };
}

std::string PlaceOf(const CgroupLayout& layout, CgroupController c) {
  const CgroupHierarchy* h = layout.Find(c);
  if (h == nullptr) return "none";
  return "v" + std::to_string(h->version) + " " + h->mount_point;
}

TEST(CgroupLayoutTest, HybridFindsV1ControllersAndKeepsCgroup2ForTracking) {
  auto layout = CgroupLayout::FromMountinfo(
      kHybrid, Files({{"/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n"}}));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kMemory), "v1 /sys/fs/cgroup/memory");
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kCpu), "v1 /sys/fs/cgroup/cpu");
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kCpuacct), "v1 /sys/fs/cgroup/cpuacct");
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kPids), "v1 /sys/fs/cgroup/pids");
  ASSERT_EQ(layout->hierarchies().size(), 5u);  // cpuset, devices, systemd... are skipped.
  const CgroupHierarchy& v2 = layout->hierarchies().back();
  EXPECT_EQ(v2.version, 2);
  EXPECT_EQ(v2.mount_point, "/sys/fs/cgroup/unified");
  EXPECT_TRUE(v2.controllers.empty());
  EXPECT_FALSE(layout->unified());
  EXPECT_EQ(layout->Describe(),
            "memory: v1 /sys/fs/cgroup/memory; cpu: v1 /sys/fs/cgroup/cpu; "
            "cpuacct: v1 /sys/fs/cgroup/cpuacct; pids: v1 /sys/fs/cgroup/pids; "
            "cgroup2: /sys/fs/cgroup/unified");
}

TEST(CgroupLayoutTest, V1OnlyWithCoMountedCpuAndCpuacct) {
  // No cgroup2 mount: the reader must not be asked.
  auto layout = CgroupLayout::FromMountinfo(kV1Only, Files({}));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kMemory), "v1 /sys/fs/cgroup/memory");
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kCpu), "v1 /sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kCpuacct), "v1 /sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kPids), "v1 /sys/fs/cgroup/pids");
  ASSERT_EQ(layout->hierarchies().size(), 3u);
  EXPECT_THAT(layout->hierarchies()[0].controllers,
              ElementsAre(CgroupController::kCpu, CgroupController::kCpuacct));
  EXPECT_FALSE(layout->unified());
  EXPECT_THAT(layout->Describe(), HasSubstr("cgroup2: none"));
}

TEST(CgroupLayoutTest, V2OnlyUsesWhatTheRootLists) {
  auto layout = CgroupLayout::FromMountinfo(
      kV2Only, Files({{"/sys/fs/cgroup/cgroup.controllers",
                       "cpuset cpu io memory hugetlb pids rdma misc\n"}}));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kMemory), "v2 /sys/fs/cgroup");
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kCpu), "v2 /sys/fs/cgroup");
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kPids), "v2 /sys/fs/cgroup");
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kCpuacct), "none");  // No such v2 name.
  EXPECT_TRUE(layout->unified());
  EXPECT_EQ(layout->Describe(),
            "memory: v2 /sys/fs/cgroup; cpu: v2 /sys/fs/cgroup; cpuacct: none; "
            "pids: v2 /sys/fs/cgroup; cgroup2: /sys/fs/cgroup");
}

TEST(CgroupLayoutTest, V2ControllerMissingFromRootIsAbsent) {
  auto layout = CgroupLayout::FromMountinfo(
      kV2Only, Files({{"/sys/fs/cgroup/cgroup.controllers", "cpu io memory\n"}}));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kPids), "none");
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kMemory), "v2 /sys/fs/cgroup");
}

TEST(CgroupLayoutTest, UnreadableCgroup2ControllersIsAnError) {
  auto layout = CgroupLayout::FromMountinfo(kV2Only, Files({}));
  ASSERT_FALSE(layout.ok());
  EXPECT_THAT(std::string(layout.status().message()),
              HasSubstr("/sys/fs/cgroup/cgroup.controllers"));
}

TEST(CgroupLayoutTest, MountHiddenByALaterMountIsIgnored) {
  // Mount 50, a tmpfs stacked over /sys/fs/cgroup (on top of 31), hides memory and pids
  // below it; 51 is mounted on 50 and stays visible. The lines are deliberately not in
  // mount order: mountinfo does not promise it (this machine lists /proc before /).
  std::string text =
      "51 50 0:32 / /sys/fs/cgroup/mem rw - cgroup cgroup rw,memory\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
      "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
      "50 31 0:50 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
      "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
      "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n";
  auto layout = CgroupLayout::FromMountinfo(text, Files({}));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kMemory), "v1 /sys/fs/cgroup/mem");
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kPids), "none");
}

TEST(CgroupLayoutTest, BindMountOfASeenHierarchyIsIgnored) {
  std::string text =
      "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "60 27 0:32 /workloads /srv/memcg rw - cgroup cgroup rw,memory\n";
  auto layout = CgroupLayout::FromMountinfo(text, Files({}));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->hierarchies().size(), 1u);
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kMemory), "v1 /sys/fs/cgroup/memory");
}

TEST(CgroupLayoutTest, EscapedMountPointIsDecoded) {
  std::string text =
      "35 31 0:32 / /cg\\040roups/mem\\134ory rw - cgroup cgroup rw,memory\n";
  auto layout = CgroupLayout::FromMountinfo(text, Files({}));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kMemory), "v1 /cg roups/mem\\ory");
}

TEST(CgroupLayoutTest, OptionalFieldsBeforeTheSeparatorAreSkipped) {
  std::string text =
      "29 24 0:25 / /sys/fs/cgroup/memory rw shared:12 master:3 - cgroup cgroup rw,memory\n";
  auto layout = CgroupLayout::FromMountinfo(text, Files({}));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(PlaceOf(*layout, CgroupController::kMemory), "v1 /sys/fs/cgroup/memory");
}

TEST(CgroupLayoutTest, MalformedLineNamesItsNumber) {
  std::string text = std::string(kV1Only) + "garbage without separator\n";
  auto layout = CgroupLayout::FromMountinfo(text, Files({}));
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(layout.status().message()), HasSubstr("mountinfo line 8"));
}

TEST(CgroupLayoutTest, NoCgroupMountsGivesAnEmptyLayout) {
  auto layout = CgroupLayout::FromMountinfo(
      "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n", Files({}));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_TRUE(layout->hierarchies().empty());
  EXPECT_EQ(layout->Find(CgroupController::kMemory), nullptr);
}

TEST(CgroupLayoutTest, DiscoverReadsThisHost) {
  // Runs in Bazel's sandbox: cgroupfs is read-only there but still readable.
  auto layout = CgroupLayout::Discover();
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_LE(layout->hierarchies().size(), CgroupLayout::kMaxHierarchies);
}

}  // namespace
}  // namespace secureos::sandboxd
