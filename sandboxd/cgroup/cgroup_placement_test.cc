// Pure: the two forms of cgroup_parent, and /proc/<pid>/cgroup read against a layout.
#include "sandboxd/cgroup/cgroup_placement.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::sandboxd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Hybrid: memory and pids on v1, cpu and cpuacct co-mounted, a cgroup2 mount without
// controllers (the test machine's shape).
constexpr char kHybrid[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "23 1 0:22 / /sys rw,relatime - sysfs sysfs rw\n";

constexpr char kV2Only[] =
    "22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "26 22 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 "
    "cgroup2 rw,nsdelegate,memory_recursiveprot\n";

CgroupLayout LayoutOf(const char* mountinfo, const std::string& controllers) {
  absl::StatusOr<CgroupLayout> layout = CgroupLayout::FromMountinfo(
      mountinfo, [&](const std::string&) -> absl::StatusOr<std::string> { return controllers; });
  EXPECT_TRUE(layout.ok()) << layout.status();
  return layout.ok() ? *layout : CgroupLayout();
}

TEST(CgroupParentProblemTest, AcceptsBothForms) {
  EXPECT_THAT(CgroupParentProblem("secureos/sandboxd"), IsEmpty());
  EXPECT_THAT(CgroupParentProblem("@self/workloads"), IsEmpty());
  EXPECT_THAT(CgroupParentProblem("@self/a/b.c-d_e"), IsEmpty());
}

TEST(CgroupParentProblemTest, NamesWhatIsWrong) {
  EXPECT_EQ(CgroupParentProblem(""), "required");
  EXPECT_THAT(CgroupParentProblem("/abs"), HasSubstr("must be a relative path"));
  EXPECT_THAT(CgroupParentProblem("a/../b"), HasSubstr("\".\" or \"..\" component"));
  EXPECT_THAT(CgroupParentProblem("@self"), HasSubstr("may contain only"));
  EXPECT_EQ(CgroupParentProblem("@self/"), "after \"@self/\": required");
  EXPECT_THAT(CgroupParentProblem("@self/../up"),
              HasSubstr("after \"@self/\": \"../up\" has an empty"));
  EXPECT_THAT(CgroupParentProblem("@self//x"), HasSubstr("after \"@self/\""));
}

TEST(CgroupsOfTest, MatchesEachHierarchyToItsLine) {
  CgroupLayout layout = LayoutOf(kHybrid, "");
  ASSERT_EQ(layout.hierarchies().size(), 4u);  // cpu,cpuacct; memory; pids; unified.
  absl::StatusOr<std::vector<std::string>> own = CgroupsOf(
      layout,
      "9:name=systemd:/system.slice/secureos-sandboxd.service\n"
      "8:pids:/system.slice/secureos-sandboxd.service\n"
      "4:memory:/system.slice/secureos-sandboxd.service/supervisor\n"
      "2:cpu,cpuacct:/system.slice\n"
      "0::/odd:name\n");
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_THAT(*own, ElementsAre("/system.slice", "/system.slice/secureos-sandboxd.service/supervisor",
                                "/system.slice/secureos-sandboxd.service", "/odd:name"));
}

TEST(CgroupsOfTest, PureV2UsesTheZeroLine) {
  CgroupLayout layout = LayoutOf(kV2Only, "cpu memory pids");
  absl::StatusOr<std::vector<std::string>> own =
      CgroupsOf(layout, "0::/system.slice/secureos-svcd.service\n");
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_THAT(*own, ElementsAre("/system.slice/secureos-svcd.service"));
}

TEST(CgroupsOfTest, MissingHierarchyNamesItsMount) {
  CgroupLayout layout = LayoutOf(kHybrid, "");
  absl::StatusOr<std::vector<std::string>> own =
      CgroupsOf(layout, "2:cpu,cpuacct:/\n4:memory:/\n0::/\n");
  EXPECT_EQ(own.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(own.status().message(), HasSubstr("/sys/fs/cgroup/pids"));
}

TEST(CgroupsOfTest, MalformedLineNamesItsNumber) {
  CgroupLayout layout = LayoutOf(kV2Only, "memory");
  absl::StatusOr<std::vector<std::string>> own = CgroupsOf(layout, "0::/\nx:memory\n");
  EXPECT_EQ(own.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(own.status().message(), HasSubstr("line 2"));
}

TEST(CgroupLayoutBasesTest, BaseDirFollowsTheBase) {
  CgroupLayout layout = LayoutOf(kV2Only, "memory");
  EXPECT_EQ(layout.hierarchies()[0].BaseDir(), "/sys/fs/cgroup");
  CgroupLayout based = layout.WithBases({"/system.slice/x.service"});
  EXPECT_EQ(based.hierarchies()[0].BaseDir(), "/sys/fs/cgroup/system.slice/x.service");
  EXPECT_EQ(based.hierarchies()[0].mount_point, "/sys/fs/cgroup");
  EXPECT_THAT(based.Describe(), HasSubstr("memory: v2 /sys/fs/cgroup/system.slice/x.service"));
}

TEST(PlaceCgroupsTest, RootRelativeFormChangesNothing) {
  CgroupLayout layout = LayoutOf(kV2Only, "memory");
  absl::StatusOr<CgroupPlacement> placed =
      PlaceCgroups(layout, "secureos/sandboxd", "/nonexistent/record");
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(placed->parent, "secureos/sandboxd");
  EXPECT_EQ(placed->layout.hierarchies()[0].BaseDir(), "/sys/fs/cgroup");
}

TEST(PlaceCgroupsTest, MalformedValueIsRefusedBeforeAnything) {
  CgroupLayout layout = LayoutOf(kV2Only, "memory");
  absl::StatusOr<CgroupPlacement> placed = PlaceCgroups(layout, "@self/..", "/nonexistent/record");
  EXPECT_EQ(placed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(placed.status().message(), HasSubstr("cgroup_parent: after \"@self/\""));
}

}  // namespace
}  // namespace secureos::sandboxd
