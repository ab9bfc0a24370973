// Real cgroups on the real kernel (root, tagged "local"): "@self" placement as a daemon under
// a systemd unit with Delegate=yes meets it. The test process plays the daemon: it moves
// itself into a unit cgroup made under "secureos-test/placement-<pid>" in every hierarchy,
// and TearDown moves it back to where it started and removes everything, even on failure.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandboxd/cgroup/cgroup.h"
#include "sandboxd/cgroup/cgroup_layout.h"
#include "sandboxd/cgroup/cgroup_placement.h"

namespace secureos::sandboxd {
namespace {

using ::testing::Each;
using ::testing::HasSubstr;

std::string DirOf(const CgroupHierarchy& h, const std::string& cgroup) {
  return cgroup == "/" ? h.mount_point : h.mount_point + cgroup;
}

class CgroupPlacementKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<CgroupLayout> layout = CgroupLayout::Discover();
    ASSERT_TRUE(layout.ok()) << layout.status();
    layout_ = *layout;
    started_in_ = Own();
    ASSERT_EQ(started_in_.size(), layout_.hierarchies().size());
    slice_ = absl::StrCat("/secureos-test/placement-", ::getpid());
    unit_ = slice_ + "/secureos-sandboxd.service";
    record_ = absl::StrCat(::testing::TempDir(), "/cgroup-bases-", ::getpid());
    for (const CgroupHierarchy& h : layout_.hierarchies()) {
      for (const std::string& dir : {std::string("/secureos-test"), slice_, unit_}) {
        ::mkdir(DirOf(h, dir).c_str(), 0755);
      }
    }
    MoveAll(unit_);
  }

  void TearDown() override {
    for (size_t i = 0; i < started_in_.size(); ++i) {
      MoveTo(layout_.hierarchies()[i], started_in_[i]);
    }
    for (const CgroupHierarchy& h : layout_.hierarchies()) {
      for (const std::string& dir :
           {unit_ + "/workloads/w1", unit_ + "/workloads", unit_ + "/supervisor", unit_,
            slice_ + "/supervisor", slice_, std::string("/secureos-test")}) {
        ::rmdir(DirOf(h, dir).c_str());  // secureos-test stays when other tests use it.
      }
    }
    ::unlink(record_.c_str());
  }

  std::vector<std::string> Own() const {
    absl::StatusOr<std::string> text = ReadFile("/proc/self/cgroup");
    if (!text.ok()) return {};
    absl::StatusOr<std::vector<std::string>> own = CgroupsOf(layout_, *text);
    return own.ok() ? *own : std::vector<std::string>();
  }

  void MoveTo(const CgroupHierarchy& h, const std::string& cgroup) {
    absl::StatusOr<UniqueFd> fd = OpenFile(DirOf(h, cgroup) + "/cgroup.procs", O_WRONLY);
    ASSERT_TRUE(fd.ok()) << fd.status();
    ASSERT_TRUE(WriteAll(fd->get(), "0").ok()) << cgroup;
  }

  void MoveAll(const std::string& cgroup) {
    for (const CgroupHierarchy& h : layout_.hierarchies()) MoveTo(h, cgroup);
  }

  CgroupLayout layout_;
  std::vector<std::string> started_in_;
  std::string slice_, unit_, record_;
};

TEST_F(CgroupPlacementKernelTest, MovesIntoSupervisorAndMakesWorkloadsInTheUnit) {
  absl::StatusOr<CgroupPlacement> placed = PlaceCgroups(layout_, "@self/workloads", record_);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(placed->parent, "workloads");
  EXPECT_THAT(Own(), Each(unit_ + "/supervisor"));
  for (const CgroupHierarchy& h : placed->layout.hierarchies()) EXPECT_EQ(h.base, unit_);

  CgroupLimits limits;
  limits.pids = 16;
  absl::StatusOr<std::unique_ptr<Cgroup>> cgroup =
      Cgroup::Create(placed->layout, placed->parent, "w1", limits);
  ASSERT_TRUE(cgroup.ok()) << cgroup.status();
  std::vector<std::string> expected;
  for (const CgroupHierarchy& h : layout_.hierarchies()) {
    expected.push_back(DirOf(h, unit_ + "/workloads/w1"));
  }
  EXPECT_EQ((*cgroup)->paths(), expected);
  EXPECT_TRUE((*cgroup)->Destroy().ok());
}

TEST_F(CgroupPlacementKernelTest, AStartInTheSupervisorLeafKeepsTheUnitAsBase) {
  ASSERT_TRUE(PlaceCgroups(layout_, "@self/workloads", record_).ok());
  ::unlink(record_.c_str());  // The leaf alone must tell.
  absl::StatusOr<CgroupPlacement> again = PlaceCgroups(layout_, "@self/workloads", record_);
  ASSERT_TRUE(again.ok()) << again.status();
  for (const CgroupHierarchy& h : again->layout.hierarchies()) EXPECT_EQ(h.base, unit_);
  EXPECT_THAT(Own(), Each(unit_ + "/supervisor"));
}

// systemd < 254 restarting a unit whose cgroup enables controllers starts the process in an
// ancestor: the record brings it back.
TEST_F(CgroupPlacementKernelTest, ARestartInAnAncestorReturnsToTheRecordedBase) {
  ASSERT_TRUE(PlaceCgroups(layout_, "@self/workloads", record_).ok());
  MoveAll(slice_);
  absl::StatusOr<CgroupPlacement> again = PlaceCgroups(layout_, "@self/workloads", record_);
  ASSERT_TRUE(again.ok()) << again.status();
  for (const CgroupHierarchy& h : again->layout.hierarchies()) EXPECT_EQ(h.base, unit_);
  EXPECT_THAT(Own(), Each(unit_ + "/supervisor"));
}

TEST_F(CgroupPlacementKernelTest, ARecordOfAVanishedBaseIsIgnored) {
  ASSERT_TRUE(PlaceCgroups(layout_, "@self/workloads", record_).ok());
  MoveAll(slice_);
  for (const CgroupHierarchy& h : layout_.hierarchies()) {
    ASSERT_EQ(::rmdir(DirOf(h, unit_ + "/supervisor").c_str()), 0) << h.mount_point;
    ASSERT_EQ(::rmdir(DirOf(h, unit_).c_str()), 0) << h.mount_point;
  }
  absl::StatusOr<CgroupPlacement> again = PlaceCgroups(layout_, "@self/workloads", record_);
  ASSERT_TRUE(again.ok()) << again.status();
  for (const CgroupHierarchy& h : again->layout.hierarchies()) EXPECT_EQ(h.base, slice_);
  EXPECT_THAT(Own(), Each(slice_ + "/supervisor"));
}

TEST_F(CgroupPlacementKernelTest, TheRootCgroupIsRefused) {
  MoveAll("/");
  absl::StatusOr<CgroupPlacement> placed = PlaceCgroups(layout_, "@self/workloads", record_);
  EXPECT_EQ(placed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(placed.status().message(), HasSubstr("cgroup_parent"));
  EXPECT_THAT(placed.status().message(), HasSubstr("Delegate=yes"));
  EXPECT_THAT(Own(), Each(std::string("/")));  // Nothing moved.
}

}  // namespace
}  // namespace secureos::sandboxd
