#include "common/absolute_path.h"

#include <string>

#include "gtest/gtest.h"

namespace secureos {
namespace {

TEST(AbsolutePath, NormalizesSlashesAndDots) {
  FieldErrors errors;
  EXPECT_EQ(NormalizeAbsolutePath("/a//b/./c/", "f", &errors), std::optional<std::string>("/a/b/c"));
  EXPECT_EQ(NormalizeAbsolutePath("/", "f", &errors), std::optional<std::string>("/"));
  EXPECT_EQ(NormalizeAbsolutePath("/./", "f", &errors), std::optional<std::string>("/"));
  EXPECT_TRUE(errors.empty());
}

TEST(AbsolutePath, EachRefusalNamesTheField) {
  FieldErrors errors;
  EXPECT_EQ(NormalizeAbsolutePath("", "a", &errors), std::nullopt);
  EXPECT_EQ(NormalizeAbsolutePath("x/y", "b", &errors), std::nullopt);
  EXPECT_EQ(NormalizeAbsolutePath("/x/../y", "c", &errors), std::nullopt);
  EXPECT_EQ(NormalizeAbsolutePath(std::string("/x\0y", 4), "d", &errors), std::nullopt);
  EXPECT_EQ(NormalizeAbsolutePath("/" + std::string(256, 'n'), "e", &errors), std::nullopt);
  std::string deep;
  while (deep.size() < 4200) deep += "/abcdefgh";
  EXPECT_EQ(NormalizeAbsolutePath(deep, "f", &errors), std::nullopt);
  EXPECT_EQ(errors.ToStatus().message(),
            "a: required; b: must be absolute, got \"x/y\"; c: \"..\" is not allowed, got \"/x/../y\"; "
            "d: must not contain a NUL byte; e: a component is longer than 255 bytes; f: longer than 4095 bytes");
}

}  // namespace
}  // namespace secureos
