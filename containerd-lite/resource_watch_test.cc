#include "containerd-lite/resource_watch.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

namespace v1 = ::secureos::containerd_lite::v1;
namespace sbx = ::secureos::sandboxd::v1;

sbx::WorkloadInfo Info(uint64_t ws, uint64_t cpu_ns, uint64_t pids, uint64_t ooms) {
  sbx::WorkloadInfo info;
  info.mutable_usage()->set_memory_working_set_bytes(ws);
  info.mutable_usage()->set_cpu_usage_ns(cpu_ns);
  info.mutable_usage()->set_pids_current(pids);
  info.mutable_usage()->set_oom_kills(ooms);
  info.mutable_spec()->mutable_limits()->set_memory_bytes(100 << 20);
  info.mutable_spec()->mutable_limits()->set_cpu_millis(500);
  info.mutable_spec()->mutable_limits()->set_pids(10);
  return info;
}

TEST(ResourceWatchTest, StatsCarryUsageLimitsAndCpuRate) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  v1::ContainerStats first = StatsOf("web", Info(10 << 20, 1'000'000'000, 2, 0), nullptr, t0);
  EXPECT_EQ(first.id(), "web");
  EXPECT_EQ(first.memory_working_set_bytes(), 10u << 20);
  EXPECT_EQ(first.memory_limit_bytes(), 100u << 20);
  EXPECT_DOUBLE_EQ(first.cpu_limit(), 0.5);
  EXPECT_EQ(first.pids(), 2u);
  EXPECT_EQ(first.pids_limit(), 10u);
  EXPECT_FALSE(first.has_cpu_rate());  // Needs a previous sample.
  // 0.25 s of CPU in 1 s of wall time.
  v1::ContainerStats second =
      StatsOf("web", Info(10 << 20, 1'250'000'000, 2, 0), &first, t0 + absl::Seconds(1));
  EXPECT_DOUBLE_EQ(second.cpu_rate(), 0.25);
}

TEST(ResourceWatchTest, UnlimitedResourcesHaveNoLimitFields) {
  sbx::WorkloadInfo info;
  info.mutable_usage()->set_memory_working_set_bytes(1);
  v1::ContainerStats s = StatsOf("x", info, nullptr, absl::Now());
  EXPECT_FALSE(s.has_memory_limit_bytes());
  EXPECT_FALSE(s.has_cpu_limit());
  EXPECT_FALSE(s.has_pids_limit());
  EXPECT_FALSE(s.has_pids());  // sandboxd could not tell.
}

TEST(ResourceWatchTest, EachCrossingIsReportedOnceUntilItFallsBack) {
  ResourceWatch watch;
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  v1::ContainerStats s = StatsOf("web", Info(50 << 20, 0, 2, 0), watch.last(), t0);
  EXPECT_TRUE(watch.Observe(&s, 90).empty());
  s = StatsOf("web", Info(95 << 20, 0, 9, 0), watch.last(), t0 + absl::Seconds(1));
  std::vector<Crossing> x = watch.Observe(&s, 90);
  ASSERT_EQ(x.size(), 2u);
  EXPECT_EQ(x[0].resource, "memory");
  EXPECT_DOUBLE_EQ(x[0].value, 95 << 20);
  EXPECT_DOUBLE_EQ(x[0].threshold, 90 << 20);
  EXPECT_EQ(x[1].resource, "pids");
  EXPECT_DOUBLE_EQ(x[1].threshold, 9);
  s = StatsOf("web", Info(96 << 20, 0, 9, 0), watch.last(), t0 + absl::Seconds(2));
  EXPECT_TRUE(watch.Observe(&s, 90).empty());  // Still over: not again.
  s = StatsOf("web", Info(10 << 20, 0, 1, 0), watch.last(), t0 + absl::Seconds(3));
  EXPECT_TRUE(watch.Observe(&s, 90).empty());
  // CPU: 0.5 s in 1 s against a 0.5-CPU quota is 100%.
  s = StatsOf("web", Info(96 << 20, 500'000'000, 1, 0), watch.last(), t0 + absl::Seconds(4));
  x = watch.Observe(&s, 90);
  ASSERT_EQ(x.size(), 2u);
  EXPECT_EQ(x[0].resource, "memory");
  EXPECT_EQ(x[1].resource, "cpu");
  EXPECT_DOUBLE_EQ(x[1].value, 0.5);
}

TEST(ResourceWatchTest, ZeroPercentMeansNoThresholds) {
  ResourceWatch watch;
  v1::ContainerStats s = StatsOf("web", Info(100 << 20, 0, 10, 0), nullptr, absl::Now());
  EXPECT_TRUE(watch.Observe(&s, 0).empty());
}

TEST(ResourceWatchTest, NewOomKills) {
  ResourceWatch watch;
  v1::ContainerStats s;
  EXPECT_EQ(watch.NewOomKills(s), 0u);  // Unknown.
  s.set_oom_kills(0);
  EXPECT_EQ(watch.NewOomKills(s), 0u);
  s.set_oom_kills(2);
  EXPECT_EQ(watch.NewOomKills(s), 2u);
  EXPECT_EQ(watch.NewOomKills(s), 0u);
  s.set_oom_kills(3);
  EXPECT_EQ(watch.NewOomKills(s), 1u);
}

}  // namespace
}  // namespace secureos::ctr
