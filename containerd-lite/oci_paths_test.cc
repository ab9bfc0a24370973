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

TEST(OciPathsTest, NormalizeAbsolute) {
  FieldErrors errors;
  EXPECT_EQ(NormalizeAbsolute("/a//b/./c/", "f", &errors), std::optional<std::string>("/a/b/c"));
  EXPECT_EQ(NormalizeAbsolute("/", "f", &errors), std::optional<std::string>("/"));
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(NormalizeAbsolute("", "f", &errors), std::nullopt);
  EXPECT_EQ(NormalizeAbsolute("a/b", "g", &errors), std::nullopt);
  EXPECT_EQ(NormalizeAbsolute("/a/../b", "h", &errors), std::nullopt);
  EXPECT_EQ(errors.ToStatus().message(),
            "f: required; g: must be absolute, got \"a/b\"; h: must not contain \"..\" or NUL "
            "bytes, got \"/a/../b\"");
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
