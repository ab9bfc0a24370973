#include "containerd-lite/oci_paths.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "common/field_errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

TEST(OciPathsTest, QuoteAndField) {
  EXPECT_EQ(Quote("a\"b\n"), "\"a\\\"b\\n\"");
  EXPECT_EQ(Field("mounts", 2), "mounts[2]");
  EXPECT_EQ(Field("mounts[2].options", 0), "mounts[2].options[0]");
}

TEST(OciPathsTest, IsUnder) {
  EXPECT_TRUE(IsUnder("/a", "/"));
  EXPECT_TRUE(IsUnder("/a/b", "/a"));
  EXPECT_TRUE(IsUnder("/a", "/a"));
  EXPECT_FALSE(IsUnder("/ab", "/a"));
  EXPECT_FALSE(IsUnder("/a", "/a/b"));
}

TEST(OciPathsTest, RealPath) {
  EXPECT_EQ(RealPath("/proc/../proc/./").value_or(""), "/proc");
  absl::StatusOr<std::string> missing = RealPath("/no/such/dir");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), ::testing::HasSubstr("/no/such/dir"));
}

}  // namespace
}  // namespace secureos::ctr
