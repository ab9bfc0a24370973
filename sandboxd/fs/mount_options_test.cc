#include "sandboxd/fs/mount_options.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::sandboxd {
namespace {

using ::testing::HasSubstr;

TEST(ParseSizeTest, AcceptsDigitsWithOptionalSuffix) {
  EXPECT_EQ(ParseSize("1").value(), 1u);
  EXPECT_EQ(ParseSize("4096").value(), 4096u);
  EXPECT_EQ(ParseSize("64k").value(), 64u << 10);
  EXPECT_EQ(ParseSize("64K").value(), 64u << 10);
  EXPECT_EQ(ParseSize("64m").value(), 64u << 20);
  EXPECT_EQ(ParseSize("3G").value(), uint64_t{3} << 30);
  EXPECT_EQ(ParseSize("1024g").value(), kMaxMountSize);
  EXPECT_EQ(ParseSize("1099511627776").value(), kMaxMountSize);
  EXPECT_EQ(ParseSize("007").value(), 7u);
}

struct BadSize {
  const char* text;
  const char* why;  // A piece of the expected message.
};

class ParseSizeRefusesTest : public ::testing::TestWithParam<BadSize> {};

TEST_P(ParseSizeRefusesTest, SaysWhatIsWrong) {
  const BadSize& bad = GetParam();
  absl::StatusOr<uint64_t> size = ParseSize(bad.text);
  ASSERT_FALSE(size.ok()) << bad.text << " parsed as " << *size;
  EXPECT_EQ(size.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(size.status().message()), HasSubstr("is not a size"));
  EXPECT_THAT(std::string(size.status().message()), HasSubstr(bad.why)) << bad.text;
}

INSTANTIATE_TEST_SUITE_P(
    All, ParseSizeRefusesTest,
    ::testing::Values(BadSize{"size=1m,exec", "must start with a decimal digit"},
                      BadSize{"1m,exec", "unexpected \",exec\" after \"1m\""},
                      BadSize{"uid=0", "must start with a decimal digit"},
                      BadSize{"0", "must be more than 0"}, BadSize{"0k", "must be more than 0"},
                      BadSize{"123bogus", "unexpected \"bogus\" after \"123\""},
                      BadSize{"-1", "must start with a decimal digit"},
                      BadSize{"18446744073709551616", "more than the 1 TiB limit"},
                      BadSize{"99999999999999999999999999", "more than the 1 TiB limit"},
                      BadSize{"1025g", "more than the 1 TiB limit"},
                      BadSize{"1099511627777", "more than the 1 TiB limit"}, BadSize{"", "empty"},
                      BadSize{" 1m", "must start with a decimal digit"},
                      BadSize{"1m ", "unexpected \" \" after \"1m\""},
                      BadSize{"0x10", "unexpected \"x10\" after \"0\""},
                      BadSize{"1e6", "unexpected \"e6\" after \"1\""},
                      BadSize{"1mm", "unexpected \"m\" after \"1m\""},
                      BadSize{"1kb", "unexpected \"b\" after \"1k\""},
                      BadSize{"+5", "must start with a decimal digit"}));

TEST(ParseSizeTest, NulInsideTextIsRefusedAndEscaped) {
  absl::StatusOr<uint64_t> size = ParseSize(absl::string_view("1\0m", 3));
  ASSERT_FALSE(size.ok());
  EXPECT_THAT(std::string(size.status().message()), HasSubstr("\"1\\000m\""));
}

TEST(ParseModeTest, AcceptsThreeOrFourOctalDigits) {
  EXPECT_EQ(ParseMode("755").value(), 0755u);
  EXPECT_EQ(ParseMode("0755").value(), 0755u);
  EXPECT_EQ(ParseMode("1777").value(), 01777u);
  EXPECT_EQ(ParseMode("0000").value(), 0u);
  EXPECT_EQ(ParseMode("7777").value(), 07777u);
}

TEST(ParseModeTest, RefusesEverythingElse) {
  for (const char* bad : {"", "7", "75", "07755", "0o755", "0x1ff", "0758", "rwx", " 755", "755 ",
                          "-755", "+755", "75a"}) {
    absl::StatusOr<mode_t> mode = ParseMode(bad);
    ASSERT_FALSE(mode.ok()) << "\"" << bad << "\" parsed as " << *mode;
    EXPECT_EQ(mode.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(mode.status().message()), HasSubstr("is not a mode")) << bad;
  }
  EXPECT_THAT(std::string(ParseMode("0758").status().message()), HasSubstr("octal digits"));
  EXPECT_THAT(std::string(ParseMode("07755").status().message()), HasSubstr("3 or 4"));
}

TEST(FormatModeTest, RoundTrips) {
  for (mode_t mode : {0u, 0700u, 0755u, 01777u, 07777u}) {
    EXPECT_EQ(ParseMode(FormatMode(mode)).value(), mode);
  }
  EXPECT_EQ(FormatMode(0755), "0755");
}

TEST(TmpfsMountDataTest, IsBuiltFromNumbers) {
  EXPECT_EQ(TmpfsMountData(64u << 20, 01777), "size=67108864,mode=1777");
  EXPECT_EQ(TmpfsMountData(ParseSize("16m").value(), ParseMode("755").value()),
            "size=16777216,mode=0755");
}

}  // namespace
}  // namespace secureos::sandboxd
