// secctl monitor's time arguments (--since, --until).
#include "cli/monitor_commands.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::cli {
namespace {

TEST(ParseTimeArgTest, ADurationIsThatLongAgoAndATimeIsThatTime) {
  const absl::Time now = absl::FromUnixSeconds(1796400000);
  EXPECT_EQ(*ParseTimeArg("--since", "1h", now), now - absl::Hours(1));
  EXPECT_EQ(*ParseTimeArg("--since", "90s", now), now - absl::Seconds(90));
  EXPECT_EQ(*ParseTimeArg("--until", "2026-12-04T12:00:00Z", now), absl::FromUnixSeconds(1796385600));
  EXPECT_EQ(*ParseTimeArg("--until", "2026-12-04T13:00:00+01:00", now), absl::FromUnixSeconds(1796385600));
}

TEST(ParseTimeArgTest, AnythingElseNamesTheFlag) {
  for (const char* bad : {"", "yesterday", "-1h", "2026-12-04", "12:00"}) {
    absl::StatusOr<absl::Time> t = ParseTimeArg("--until", bad, absl::Now());
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_THAT(std::string(t.status().message()), ::testing::StartsWith("--until: a duration ago (1h, 30m) or an RFC 3339 time"));
  }
}

}  // namespace
}  // namespace secureos::cli
