#include "common/proc_usage.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/fd.h"
#include "gtest/gtest.h"

namespace secureos {
namespace {

TEST(ProcUsageTest, ParsesVmRss) {
  EXPECT_EQ(*ParseResidentKib("Name:\tx\nVmRSS:\t   20032 kB\nThreads:\t1\n"), 20032);
  EXPECT_FALSE(ParseResidentKib("Name:\tkthreadd\n").ok());
  EXPECT_FALSE(ParseResidentKib("VmRSS:\tlots kB\n").ok());
}

TEST(ProcUsageTest, ReadsThisProcessAndNotAGoneOne) {
  absl::StatusOr<int64_t> rss = ReadResidentKib(::getpid());
  ASSERT_TRUE(rss.ok()) << rss.status();
  EXPECT_GT(*rss, 0);
  absl::StatusOr<int> before = CountOpenFds(::getpid());
  ASSERT_TRUE(before.ok()) << before.status();
  UniqueFd extra(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(extra.valid());
  // opendir's own descriptor is counted in both.
  EXPECT_EQ(*CountOpenFds(::getpid()), *before + 1);
  EXPECT_EQ(ReadResidentKib(0x7ffffff0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(CountOpenFds(0x7ffffff0).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace secureos
