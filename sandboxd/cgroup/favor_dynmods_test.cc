// Needs root: it sets favordynmods on this host's cgroup2 mount (what sandboxd does at
// start with its default configuration), and checks the kernel shows it.
#include "sandboxd/cgroup/favor_dynmods.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::sandboxd {
namespace {

TEST(FavorDynmodsTest, TheCgroup2MountEndsUpWithTheOptionAndASecondCallIsANoOp) {
  absl::StatusOr<CgroupLayout> layout = CgroupLayout::Discover();
  ASSERT_TRUE(layout.ok()) << layout.status();
  absl::StatusOr<std::string> first = FavorDynamicModifications(*layout);
  if (!first.ok() && first.status().code() == absl::StatusCode::kFailedPrecondition) {
    GTEST_SKIP() << "this host has no cgroup2 mount: " << first.status();
  }
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::string> info = ReadFile("/proc/self/mountinfo");
  ASSERT_TRUE(info.ok());
  bool shown = false;
  for (absl::string_view line : absl::StrSplit(*info, '\n')) {
    shown = shown || (absl::StrContains(line, " - cgroup2 ") && absl::StrContains(line, "favordynmods"));
  }
  EXPECT_TRUE(shown) << *info;
  EXPECT_EQ(*FavorDynamicModifications(*layout), "already set");
}

TEST(FavorDynmodsTest, AHostWithoutCgroup2IsToldSo) {
  const char v1_only[] =
      "29 24 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup "
      "cgroup rw,memory\n";
  absl::StatusOr<CgroupLayout> layout = CgroupLayout::FromMountinfo(
      v1_only, [](const std::string& path) -> absl::StatusOr<std::string> {
        return absl::NotFoundError(path);
      });
  ASSERT_TRUE(layout.ok()) << layout.status();
  absl::StatusOr<std::string> r = FavorDynamicModifications(*layout);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("no cgroup2 mount"));
}

}  // namespace
}  // namespace secureos::sandboxd
