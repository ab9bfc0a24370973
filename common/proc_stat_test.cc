#include "common/proc_stat.h"

#include <unistd.h>

#include "gtest/gtest.h"

namespace secureos {
namespace {

TEST(ProcStatTest, StartTimeSkipsACommWithSpacesAndParentheses) {
  std::string stat = "77 (a) b (c)) S 1 77 77 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 "
                     "1000 10 18446744073709551615";
  EXPECT_EQ(*ParseStartTime(stat), 123456u);
  EXPECT_EQ(*ParseState(stat), 'S');
  EXPECT_EQ(*ParseState("5 (x) Z 1"), 'Z');
  EXPECT_FALSE(ParseStartTime("garbage").ok());
}

TEST(ProcStatTest, ReadsThisProcessAndNotAGoneOne) {
  absl::StatusOr<uint64_t> start = ReadStartTime(::getpid());
  ASSERT_TRUE(start.ok()) << start.status();
  EXPECT_GT(*start, 0u);
  EXPECT_EQ(*ReadState(::getpid()), 'R');
  EXPECT_EQ(ReadStartTime(0x3fffffff).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace secureos
